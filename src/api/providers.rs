//! `/v1/providers`: register, list, show, change and remove providers.
//!
//! A registration is checked whole before anything is written; its key goes to the vault first,
//! then the record (flushed), then the actor starts. A PATCH reconfigures the running actor, so
//! the next request uses the change and requests in flight finish on the old configuration.

use std::collections::BTreeMap;
use std::net::IpAddr;

use actix_web::{web, HttpResponse};
use moxxy_actors::ratelimit::RateLimitConfig;
use moxxy_actors::supervisor::Remove;
use moxxy_actors::ApiKey;
use serde::Deserialize;

use super::body::double_option;
use super::{body, ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;
use crate::registry::{self, builtin_kind, registration_entry};
use crate::store::{AuthSource, ProviderRecord, StoreError, VaultEntryRecord};

/// The body of `POST /v1/providers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub name: String,
    pub base_url: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub api_key_vault: Option<String>,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub max_retries: Option<u32>,
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// The body of `PATCH /v1/providers/{id}`: every field optional; `api_key: null` empties the key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    #[serde(default, deserialize_with = "double_option")]
    pub api_key: Option<Option<String>>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub api_key_vault: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub models: Option<Vec<String>>,
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub rate_limit: Option<Option<RateLimitConfig>>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub max_retries: Option<u32>,
    #[serde(default)]
    pub allow_insecure_http: Option<bool>,
}

/// `GET /v1/providers`: built-ins first, then custom ones by id.
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let records = state
        .store
        .providers()
        .list()
        .map_err(|e| ApiError::internal(&e))?;
    let mut data = Vec::new();
    for id in registry::BUILTINS {
        let record = records.iter().find(|r| r.id == id);
        data.push(registry::view(&state, id, record).await?);
    }
    for record in records.iter().filter(|r| builtin_kind(&r.id).is_none()) {
        data.push(registry::view(&state, &record.id, Some(record)).await?);
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"object": "list", "data": data})))
}

/// `GET /v1/providers/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let record = find(&state, &id)?;
    if record.is_none() && builtin_kind(&id).is_none() {
        return Err(not_found(&id));
    }
    Ok(HttpResponse::Ok().json(registry::view(&state, &id, record.as_ref()).await?))
}

/// `POST /v1/providers`.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let reg: Registration = body::json(payload, state.config.server.body_limit_bytes).await?;
    validate_id(&reg.name)?;
    validate_base_url(&reg.base_url, reg.allow_insecure_http)?;
    validate_headers(&reg.headers)?;
    validate_limits(reg.rate_limit.as_ref(), reg.timeout_ms)?;
    validate_retries(reg.max_retries)?;
    if reg.models.is_empty() || reg.models.iter().any(|m| m.trim().is_empty()) {
        return Err(ApiError::bad_request(
            "models: list the model ids this provider offers, e.g. [\"grok-3\"]",
        )
        .with_param("models"));
    }
    let auth = auth_source(
        &reg.name,
        reg.api_key.is_some(),
        reg.api_key_env.clone(),
        reg.api_key_vault.clone(),
    )?;
    if let AuthSource::Vault { name } = &auth {
        ensure_vault_entry(&state, name)?;
    }
    if builtin_kind(&reg.name).is_some() || find(&state, &reg.name)?.is_some() {
        return Err(exists(&reg.name));
    }
    let now = crate::time::now_rfc3339();
    let record = ProviderRecord {
        schema: crate::store::SCHEMA,
        id: reg.name.clone(),
        kind: "openai_compatible".into(),
        base_url: reg.base_url.trim_end_matches('/').to_string(),
        models: reg.models,
        auth,
        headers: reg.headers,
        rate_limit: reg.rate_limit,
        timeout_ms: reg.timeout_ms,
        max_retries: reg.max_retries,
        allow_insecure_http: reg.allow_insecure_http,
        created_at: now.clone(),
        updated_at: now,
    };
    let key = match reg.api_key {
        Some(key) => Some(seal_registration_key(&state, &record.id, &key)?),
        None => None,
    };
    match state
        .store
        .providers()
        .create_with_key(&record, key.as_ref())
    {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => return Err(exists(&record.id)),
        Err(e) => return Err(ApiError::write_failed(&e)),
    }
    registry::start(&state, &record.id, Some(&record)).await?;
    tracing::info!(provider = %record.id, "provider registered");
    Ok(HttpResponse::Created().json(registry::view(&state, &record.id, Some(&record)).await?))
}

/// `PATCH /v1/providers/{id}`.
pub async fn patch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let change: Patch = body::json(payload, state.config.server.body_limit_bytes).await?;
    let id = id.into_inner();
    let builtin = builtin_kind(&id).is_some();
    let existing = find(&state, &id)?;
    if existing.is_none() && !builtin {
        return Err(not_found(&id));
    }
    let now = crate::time::now_rfc3339();
    let mut record = existing.unwrap_or_else(|| ProviderRecord {
        schema: crate::store::SCHEMA,
        id: id.clone(),
        kind: builtin_kind(&id)
            .map(|k| k.as_str())
            .unwrap_or_default()
            .to_string(),
        base_url: String::new(),
        models: Vec::new(),
        // A built-in keeps reading its environment variable until told otherwise.
        auth: builtin_kind(&id)
            .and_then(registry::builtin_key_env)
            .map_or(AuthSource::None, |var| AuthSource::Env {
                var: var.to_string(),
            }),
        headers: BTreeMap::new(),
        rate_limit: None,
        timeout_ms: None,
        max_retries: None,
        allow_insecure_http: false,
        created_at: now.clone(),
        updated_at: now.clone(),
    });
    if let Some(insecure) = change.allow_insecure_http {
        record.allow_insecure_http = insecure;
    }
    if let Some(url) = &change.base_url {
        validate_base_url(url, record.allow_insecure_http)?;
        record.base_url = url.trim_end_matches('/').to_string();
    }
    if let Some(models) = change.models {
        if models.iter().any(|m| m.trim().is_empty()) || (models.is_empty() && !builtin) {
            return Err(ApiError::bad_request(
                "models: list at least one model id; a custom provider needs its models",
            )
            .with_param("models"));
        }
        record.models = models;
    }
    if let Some(headers) = change.headers {
        validate_headers(&headers)?;
        record.headers = headers;
    }
    if let Some(limit) = change.rate_limit {
        validate_limits(limit.as_ref(), None)?;
        record.rate_limit = limit;
    }
    if let Some(ms) = change.timeout_ms {
        validate_limits(None, Some(ms))?;
        record.timeout_ms = Some(ms);
    }
    if let Some(n) = change.max_retries {
        validate_retries(Some(n))?;
        record.max_retries = Some(n);
    }
    let key_fields = usize::from(change.api_key.is_some())
        + usize::from(change.api_key_env.is_some())
        + usize::from(change.api_key_vault.is_some());
    if key_fields > 1 {
        return Err(one_key_source());
    }
    let mut new_key = None;
    match change.api_key {
        Some(Some(key)) => {
            new_key = Some(key);
            record.auth = AuthSource::Registration;
        }
        Some(None) => record.auth = AuthSource::None,
        None => {}
    }
    if let Some(var) = change.api_key_env {
        validate_env_name(&var)?;
        record.auth = AuthSource::Env { var };
    }
    if let Some(name) = change.api_key_vault {
        ensure_vault_entry(&state, &name)?;
        record.auth = AuthSource::Vault { name };
    }
    record.updated_at = now;
    let key = match new_key {
        Some(key) => Some(seal_registration_key(&state, &id, &key)?),
        None => None,
    };
    state
        .store
        .providers()
        .upsert_with_key(&record, key.as_ref())
        .map_err(|e| ApiError::write_failed(&e))?;
    registry::start(&state, &id, Some(&record)).await?;
    tracing::info!(provider = %id, "provider changed");
    Ok(HttpResponse::Ok().json(registry::view(&state, &id, Some(&record)).await?))
}

/// `DELETE /v1/providers/{id}`: 204 for a custom provider; built-ins cannot be deleted.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    if builtin_kind(&id).is_some() {
        return Err(ApiError::conflict(format!(
            "Provider '{id}' is built in and cannot be deleted - PATCH it with \"api_key\": null to empty its key"
        )));
    }
    let removed = state
        .store
        .providers()
        .delete_with_key(&id)
        .map_err(|e| ApiError::write_failed(&e))?;
    if !removed {
        return Err(not_found(&id));
    }
    state.directory.remove(&id);
    let _ = state.supervisor.send(Remove(id.to_string())).await;
    tracing::info!(provider = %id.as_str(), "provider removed");
    Ok(HttpResponse::NoContent().finish())
}

fn find(state: &AppState, id: &str) -> Result<Option<ProviderRecord>, ApiError> {
    state
        .store
        .providers()
        .get(id)
        .map_err(|e| ApiError::internal(&e))
}

/// The registration key sealed for the vault, to be stored in one transaction with the
/// provider's record.
fn seal_registration_key(
    state: &AppState,
    id: &str,
    key: &str,
) -> Result<VaultEntryRecord, ApiError> {
    if key.trim().is_empty() {
        return Err(
            ApiError::bad_request("api_key: the key is empty - give the provider's key")
                .with_param("api_key"),
        );
    }
    state
        .vault
        .seal_entry(&registration_entry(id), &ApiKey::new(key.trim()))
        .map_err(|e| ApiError::write_failed(&e))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Provider '{id}' not found")).with_code("provider_not_found")
}

fn exists(id: &str) -> ApiError {
    ApiError::conflict(format!(
        "Provider '{id}' exists - PATCH /v1/providers/{id} to change it"
    ))
}

fn one_key_source() -> ApiError {
    ApiError::bad_request("Give at most one of api_key, api_key_env and api_key_vault")
        .with_param("api_key")
}

fn auth_source(
    id: &str,
    has_key: bool,
    env: Option<String>,
    vault: Option<String>,
) -> Result<AuthSource, ApiError> {
    match (has_key, env, vault) {
        (true, None, None) => Ok(AuthSource::Registration),
        (false, Some(var), None) => {
            validate_env_name(&var)?;
            Ok(AuthSource::Env { var })
        }
        (false, None, Some(name)) => Ok(AuthSource::Vault { name }),
        (false, None, None) => {
            tracing::info!(provider = id, "provider registered without a key");
            Ok(AuthSource::None)
        }
        _ => Err(one_key_source()),
    }
}

fn ensure_vault_entry(state: &AppState, name: &str) -> Result<(), ApiError> {
    match state.vault.get(name) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ApiError::bad_request(format!(
            "api_key_vault: no vault entry '{name}' - create it with PUT /v1/vault/{name}"
        ))
        .with_param("api_key_vault")),
        Err(e) => Err(ApiError::internal(&e)),
    }
}

/// Provider ids: `[a-z0-9][a-z0-9_-]{0,62}`.
pub fn validate_id(id: &str) -> Result<(), ApiError> {
    let mut chars = id.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first_ok && rest_ok && id.len() <= 63 {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "name: '{}' is not a valid provider id - use 1 to 63 characters: lowercase letters, digits, '_' and '-', starting with a letter or digit",
            id.escape_default()
        ))
        .with_param("name"))
    }
}

fn validate_env_name(var: &str) -> Result<(), ApiError> {
    let ok = !var.is_empty()
        && var.len() <= 128
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !var.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "api_key_env: give the name of an environment variable, e.g. XAI_API_KEY",
        )
        .with_param("api_key_env"))
    }
}

/// `base_url` must be an absolute http(s) URL; plain http only to loopback unless allowed.
pub fn validate_base_url(url: &str, allow_insecure_http: bool) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::bad_request(format!("base_url: {why}")).with_param("base_url");
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| bad("must be an absolute URL such as https://api.x.ai/v1"))?;
    match parsed.scheme() {
        "https" => {}
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
                Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            };
            if !loopback && !allow_insecure_http {
                return Err(bad(
                    "plain http to a host that is not loopback would send the key in clear - use https, or set \"allow_insecure_http\": true",
                ));
            }
        }
        _ => return Err(bad("must start with https:// (or http:// for loopback)")),
    }
    if parsed.host().is_none() {
        return Err(bad("must name a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "must not carry credentials - give the key as api_key, api_key_env or api_key_vault",
        ));
    }
    Ok(())
}

fn validate_headers(headers: &BTreeMap<String, String>) -> Result<(), ApiError> {
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "authorization" | "x-api-key" | "api-key" | "x-goog-api-key" | "proxy-authorization"
        ) {
            return Err(ApiError::bad_request(format!(
                "headers: '{name}' carries credentials - give the key as api_key, api_key_env or api_key_vault"
            ))
            .with_param("headers"));
        }
        let valid = actix_web::http::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
            && actix_web::http::header::HeaderValue::from_str(value).is_ok();
        if !valid {
            return Err(ApiError::bad_request(format!(
                "headers: '{}' is not a valid HTTP header",
                name.escape_default()
            ))
            .with_param("headers"));
        }
    }
    Ok(())
}

/// The most retries a registration may ask for: the bound `providers.*.max_retries` has in
/// `config.toml`.
const MAX_RETRIES: u32 = 10;

/// `max_retries` within [`MAX_RETRIES`]: an unbounded count would let one request hammer an
/// unwell upstream.
fn validate_retries(max_retries: Option<u32>) -> Result<(), ApiError> {
    if max_retries.is_some_and(|n| n > MAX_RETRIES) {
        return Err(ApiError::bad_request(format!(
            "max_retries: give a whole number of retries from 0 to {MAX_RETRIES}"
        ))
        .with_param("max_retries"));
    }
    Ok(())
}

fn validate_limits(
    limit: Option<&RateLimitConfig>,
    timeout_ms: Option<u64>,
) -> Result<(), ApiError> {
    if let Some(limit) = limit {
        if limit.requests_per_minute == Some(0) || limit.tokens_per_minute == Some(0) {
            return Err(ApiError::bad_request(
                "rate_limit: limits must be at least 1 per minute; leave a limit out for none",
            )
            .with_param("rate_limit"));
        }
    }
    if timeout_ms.is_some_and(|ms| !(100..=3_600_000).contains(&ms)) {
        return Err(
            ApiError::bad_request("timeout_ms: give milliseconds between 100 and 3600000")
                .with_param("timeout_ms"),
        );
    }
    Ok(())
}
