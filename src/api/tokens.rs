//! `/v1/tokens`: create, list and revoke `mox_` tokens.
//!
//! The first token may be created without auth while no token exists, from loopback only
//! (`moxxy token create` uses this when the server runs). The token text is returned once, in the
//! 201; only its SHA-256 is stored.

use std::time::{Duration, SystemTime};

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{body, ApiError, AppState};
use crate::auth::token::{self, Scope};
use crate::auth::{authenticate, bootstrap_allowed, presented_token, TokenCache};
use crate::store::TokenRecord;

/// The body of `POST /v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<Scope>,
    /// Lifetime in seconds; none means the token does not expire.
    #[serde(default)]
    pub expires_in: Option<u64>,
}

fn default_scopes() -> Vec<Scope> {
    vec![Scope::Admin]
}

/// `POST /v1/tokens`.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let tokens_exist = !state
        .store
        .tokens()
        .is_empty()
        .map_err(|e| ApiError::internal(&e))?;
    let bootstrap =
        presented_token(&req).is_none() && bootstrap_allowed(tokens_exist, req.peer_addr());
    if !bootstrap {
        authenticate(&state, &req)?.require(Scope::Admin)?;
    }
    let body: CreateToken = body::json(payload, state.config.server.body_limit_bytes).await?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name: give the token a name of 1 to 128 printable characters",
        )
        .with_param("name"));
    }
    if body.scopes.is_empty() {
        return Err(ApiError::bad_request(
            "scopes: give at least one of \"admin\", \"chat\", \"read\"",
        )
        .with_param("scopes"));
    }
    if body.expires_in == Some(0) || body.expires_in.is_some_and(|s| s > 10 * 365 * 86_400) {
        return Err(ApiError::bad_request(
            "expires_in: give the lifetime in seconds, from 1 to 315360000 (ten years)",
        )
        .with_param("expires_in"));
    }
    let new = token::generate(
        name,
        body.scopes,
        body.expires_in.map(Duration::from_secs),
        SystemTime::now(),
    );
    let tokens = state.store.tokens();
    let stored = if bootstrap {
        // Atomic: two racing bootstrap requests cannot both mint an admin token.
        tokens.create_first(&new.record)
    } else {
        tokens.create(&new.record)
    };
    match stored {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict { .. }) => return Err(ApiError::unauthorized()),
        Err(e) => return Err(ApiError::write_failed(&e)),
    }
    tracing::info!(token_id = %new.record.id, bootstrap, "token created");
    let mut view = token_view(&new.record);
    view["token"] = json!(new.secret.expose());
    Ok(HttpResponse::Created().json(view))
}

/// `GET /v1/tokens`.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    authenticate(&state, &req)?.require(Scope::Read)?;
    let records = state
        .store
        .tokens()
        .list()
        .map_err(|e| ApiError::internal(&e))?;
    let data: Vec<_> = records
        .iter()
        .filter(|r| r.revoked_at.is_none())
        .map(token_view)
        .collect();
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}

/// `DELETE /v1/tokens/{id}`: the token stops working at once.
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    authenticate(&state, &req)?.require(Scope::Admin)?;
    let revoked = state
        .store
        .tokens()
        .revoke(&id)
        .map_err(|e| ApiError::write_failed(&e))?;
    if !revoked {
        return Err(ApiError::not_found(format!(
            "Token '{}' not found",
            id.as_str()
        )));
    }
    if let Some(cache) = req.app_data::<web::Data<TokenCache>>() {
        cache.forget(&id);
    }
    tracing::info!(token_id = %id.as_str(), "token revoked");
    Ok(HttpResponse::NoContent().finish())
}

fn token_view(record: &TokenRecord) -> serde_json::Value {
    json!({
        "id": record.id,
        "name": record.name,
        "scopes": record.scopes,
        "prefix": record.prefix,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "last_used_at": record.last_used_at,
    })
}
