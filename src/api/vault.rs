//! `/v1/vault`: secrets stored encrypted. Values go in and are never shown again: listings give
//! names, the last four characters and which providers use each entry.

use actix_web::{web, HttpResponse};
use moxxy_actors::ApiKey;
use serde::Deserialize;
use serde_json::json;

use super::{body, ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;
use crate::store::{AuthSource, ProviderRecord};

/// Entries Moxxy keeps for itself: a user who wrote or deleted one would silently change or
/// lose a provider's key or an OAuth session, so the vault routes neither show nor touch them.
const INTERNAL_ENTRIES: [(&str, &str); 2] = [
    (
        "provider:",
        "hold registration keys - PATCH the provider instead",
    ),
    (
        "oauth:",
        "hold OAuth sessions - use PUT or DELETE /v1/providers/anthropic/oauth instead",
    ),
];

fn is_internal(name: &str) -> bool {
    INTERNAL_ENTRIES
        .iter()
        .any(|(prefix, _)| name.starts_with(prefix))
}

/// A 400 for a name the vault routes keep away from.
fn refuse_internal(name: &str) -> Result<(), ApiError> {
    match INTERNAL_ENTRIES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
    {
        Some((prefix, what)) => Err(ApiError::bad_request(format!(
            "name: entries starting with '{prefix}' {what}"
        ))
        .with_param("name")),
        None => Ok(()),
    }
}

/// The body of `PUT /v1/vault/{name}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutEntry {
    pub value: String,
}

/// `PUT /v1/vault/{name}`: 204. Providers that use the entry pick up the new value at once.
pub async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let name = name.into_inner();
    refuse_internal(&name)?;
    let entry: PutEntry = body::json(payload, state.config.server.body_limit_bytes).await?;
    if entry.value.is_empty() {
        return Err(ApiError::bad_request("value: the value is empty").with_param("value"));
    }
    state
        .vault
        .put(&name, &ApiKey::new(entry.value))
        .map_err(vault_error)?;
    for record in users_of(&state, &name)? {
        crate::registry::start(&state, &record.id, Some(&record)).await?;
    }
    tracing::info!(entry = %name, "vault entry stored");
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/vault`.
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let entries = state.vault.list().map_err(vault_error)?;
    let providers = state
        .store
        .providers()
        .list()
        .map_err(|e| ApiError::internal(&e))?;
    let data: Vec<_> = entries
        .into_iter()
        .filter(|e| !is_internal(&e.name))
        .map(|e| {
            let used_by: Vec<&str> = providers
                .iter()
                .filter(|p| matches!(&p.auth, AuthSource::Vault { name } if *name == e.name))
                .map(|p| p.id.as_str())
                .collect();
            json!({"name": e.name, "last4": e.last4, "updated_at": e.updated_at, "used_by": used_by})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}

/// `DELETE /v1/vault/{name}`: 204; 409 while a provider uses it.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    refuse_internal(&name)?;
    let users = users_of(&state, &name)?;
    if !users.is_empty() {
        let ids: Vec<&str> = users.iter().map(|p| p.id.as_str()).collect();
        return Err(ApiError::conflict(format!(
            "Vault entry '{}' is used by {} - point them elsewhere first",
            name.as_str(),
            ids.join(", ")
        )));
    }
    if !state.vault.delete(&name).map_err(vault_error)? {
        return Err(ApiError::not_found(format!(
            "Vault entry '{}' not found",
            name.as_str()
        )));
    }
    Ok(HttpResponse::NoContent().finish())
}

fn users_of(state: &AppState, entry: &str) -> Result<Vec<ProviderRecord>, ApiError> {
    Ok(state
        .store
        .providers()
        .list()
        .map_err(|e| ApiError::internal(&e))?
        .into_iter()
        .filter(|p| matches!(&p.auth, AuthSource::Vault { name } if name == entry))
        .collect())
}

fn vault_error(e: crate::vault::VaultError) -> ApiError {
    match e {
        crate::vault::VaultError::InvalidName { .. } => {
            ApiError::bad_request(e.to_string()).with_param("name")
        }
        other => ApiError::write_failed(&other),
    }
}
