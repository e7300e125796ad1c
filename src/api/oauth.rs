//! `/v1/providers/anthropic/oauth`: switch the Anthropic provider to an OAuth session (a Claude
//! subscription's access and refresh tokens) and back to its API key.
//!
//! The session goes to the vault first (flushed), then the record that says "use it", then the
//! actor is reconfigured; the previous key source is kept in the record so `DELETE` restores it.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use moxxy_actors::provider::OAuthTokens;
use moxxy_actors::ApiKey;
use serde::Deserialize;
use serde_json::Value;

use super::{body, ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;
use crate::registry;
use crate::store::{AuthSource, ProviderRecord};

/// The only provider that takes an OAuth session.
const PROVIDER: &str = "anthropic";

/// The body of `PUT /v1/providers/anthropic/oauth`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    pub access_token: String,
    pub refresh_token: String,
    /// RFC 3339 text or epoch milliseconds (number or digits).
    pub expires_at: Value,
}

/// `PUT /v1/providers/anthropic/oauth`: 200 with the Provider, `auth.type` `oauth`.
pub async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let session: SessionBody = body::json(payload, state.config.server.body_limit_bytes).await?;
    let access = token_field("access_token", &session.access_token)?;
    let refresh = token_field("refresh_token", &session.refresh_token)?;
    let expires_at = crate::oauth::parse_expires_at(&session.expires_at)
        .map_err(|e| ApiError::unprocessable("expires_at", e.to_string()))?;
    let mut record = current_record(&state)?;
    let previous = match &record.auth {
        AuthSource::OAuth { previous } => previous.clone(),
        other => Some(Box::new(other.clone())),
    };
    let tokens = OAuthTokens {
        access_token: ApiKey::new(access),
        refresh_token: ApiKey::new(refresh),
        expires_at,
    };
    let session = crate::oauth::seal(&state.vault, PROVIDER, &tokens)
        .map_err(|e| ApiError::write_failed(&e))?;
    record.auth = AuthSource::OAuth { previous };
    record.updated_at = crate::time::now_rfc3339();
    // The session and the record that says to use it, in one transaction: after a crash both
    // are there or neither.
    state
        .store
        .providers()
        .upsert_with_key(&record, Some(&session))
        .map_err(|e| ApiError::write_failed(&e))?;
    registry::start(&state, PROVIDER, Some(&record)).await?;
    tracing::info!(provider = PROVIDER, "OAuth session imported");
    Ok(HttpResponse::Ok().json(registry::view(&state, PROVIDER, Some(&record)).await?))
}

/// `DELETE /v1/providers/anthropic/oauth`: 204; the provider goes back to the key source it had.
pub async fn delete(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let mut record = current_record(&state)?;
    let AuthSource::OAuth { previous } = &record.auth else {
        return Err(ApiError::not_found(format!(
            "Provider '{PROVIDER}' has no OAuth session - PUT /v1/providers/{PROVIDER}/oauth to add one"
        ))
        .with_code("not_found"));
    };
    record.auth = previous
        .as_deref()
        .cloned()
        .unwrap_or_else(builtin_default_auth);
    record.updated_at = crate::time::now_rfc3339();
    // The record back on its key source and the session gone, in one transaction: no session
    // outlives its removal on disk, whenever a crash comes.
    state
        .store
        .providers()
        .upsert_removing_entry(&record, &crate::oauth::vault_entry(PROVIDER))
        .map_err(|e| ApiError::write_failed(&e))?;
    registry::start(&state, PROVIDER, Some(&record)).await?;
    tracing::info!(
        provider = PROVIDER,
        "OAuth session removed; back to the API key"
    );
    Ok(HttpResponse::NoContent().finish())
}

/// A token as given: trimmed, non-empty, and something an HTTP header can carry.
fn token_field(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(
            ApiError::bad_request(format!("{field}: the token is empty")).with_param(field),
        );
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::unprocessable(
            field,
            format!("{field}: a token holds only printable ASCII characters without spaces"),
        ));
    }
    Ok(value.to_string())
}

/// The stored record of the Anthropic built-in, or a fresh one that reads its key from
/// `ANTHROPIC_API_KEY` as a built-in without a record does.
fn current_record(state: &AppState) -> Result<ProviderRecord, ApiError> {
    let existing = state
        .store
        .providers()
        .get(PROVIDER)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(existing.unwrap_or_else(|| {
        let now = crate::time::now_rfc3339();
        ProviderRecord {
            schema: crate::store::SCHEMA,
            id: PROVIDER.to_string(),
            kind: PROVIDER.to_string(),
            base_url: String::new(),
            models: Vec::new(),
            auth: builtin_default_auth(),
            headers: BTreeMap::new(),
            rate_limit: None,
            timeout_ms: None,
            max_retries: None,
            allow_insecure_http: false,
            created_at: now.clone(),
            updated_at: now,
        }
    }))
}

fn builtin_default_auth() -> AuthSource {
    AuthSource::Env {
        var: "ANTHROPIC_API_KEY".to_string(),
    }
}
