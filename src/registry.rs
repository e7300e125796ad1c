//! Provider lifecycle: from configuration and stored records to running provider actors.
//!
//! The built-ins (`anthropic`, `openai`, `ollama`) come from config.toml and the environment; a
//! stored record with a built-in's id holds the changes made to it through the API. Custom
//! providers come from their records. Keys are resolved here — from the vault, an environment
//! variable or the built-in's variable — and handed to the engine as [`ApiKey`]s.

use std::time::Duration;

use moxxy_actors::provider::{
    Credentials, OAuthTokens, ProviderConfig, ProviderKind, ProviderState,
};
use moxxy_actors::supervisor::Upsert;
use moxxy_actors::ApiKey;
use serde_json::{json, Value};

use crate::api::{ApiError, AppState};
use crate::builtin_models::builtin_models;
use crate::config::{BuiltinProviderConfig, Config};
use crate::directory::ProviderEntry;
use crate::store::{AuthSource, ProviderRecord};

/// The ids of the built-in providers, in the order they are listed.
pub const BUILTINS: [&str; 3] = ["anthropic", "openai", "ollama"];

/// How long Ollama may take to accept a connection. Ollama runs on this machine or the local
/// network, so a longer wait means it is down: "Ollama connection failed" then answers within
/// this time even for a host that drops packets, instead of the default 10 s.
pub const OLLAMA_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The vault entry that holds the key given in a provider's registration.
pub fn registration_entry(id: &str) -> String {
    format!("provider:{id}")
}

/// The kind of a built-in id.
pub fn builtin_kind(id: &str) -> Option<ProviderKind> {
    match id {
        "anthropic" => Some(ProviderKind::Anthropic),
        "openai" => Some(ProviderKind::OpenAi),
        "ollama" => Some(ProviderKind::Ollama),
        _ => None,
    }
}

/// The environment variable that supplies a built-in's key.
pub fn builtin_key_env(kind: ProviderKind) -> Option<&'static str> {
    match kind {
        ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY"),
        ProviderKind::OpenAi => Some("OPENAI_API_KEY"),
        _ => None,
    }
}

fn builtin_config(config: &Config, kind: ProviderKind) -> &BuiltinProviderConfig {
    match kind {
        ProviderKind::Anthropic => &config.providers.anthropic,
        ProviderKind::OpenAi => &config.providers.openai,
        _ => &config.providers.ollama,
    }
}

/// Where a provider's key comes from, and the key itself if it resolves.
pub struct ResolvedAuth {
    pub source: &'static str,
    pub key: Option<ApiKey>,
}

/// Resolves the key of `record` (or of a built-in without a record).
pub fn resolve_auth(
    state: &AppState,
    kind: ProviderKind,
    record: Option<&ProviderRecord>,
) -> Result<ResolvedAuth, ApiError> {
    // A built-in without a stored record reads its key from its environment variable.
    let builtin_default = builtin_key_env(kind).map(|var| AuthSource::Env {
        var: var.to_string(),
    });
    let auth = record
        .map(|r| &r.auth)
        .or(builtin_default.as_ref())
        .unwrap_or(&AuthSource::None);
    let vault_key = |name: &str| {
        state.vault.get(name).map_err(|e| {
            tracing::error!(entry = name, error = %e, "a vault entry could not be read");
            ApiError::internal(&"a vault entry could not be read")
        })
    };
    Ok(match auth {
        AuthSource::Registration => ResolvedAuth {
            source: "registration",
            key: vault_key(&registration_entry(
                record.map(|r| r.id.as_str()).unwrap_or_default(),
            ))?,
        },
        AuthSource::Vault { name } => ResolvedAuth {
            source: "vault",
            key: vault_key(name)?,
        },
        AuthSource::Env { var } => ResolvedAuth {
            source: "env",
            key: (state.env)(var).filter(|v| !v.is_empty()).map(ApiKey::new),
        },
        AuthSource::OAuth { .. } => ResolvedAuth {
            source: "oauth",
            key: oauth_tokens(state, record.map(|r| r.id.as_str()).unwrap_or_default())?
                .map(|t| t.access_token),
        },
        AuthSource::None => ResolvedAuth {
            source: "none",
            key: None,
        },
    })
}

/// Provider `id`'s OAuth session as stored in the vault.
fn oauth_tokens(state: &AppState, id: &str) -> Result<Option<OAuthTokens>, ApiError> {
    crate::oauth::load(&state.vault, id).map_err(|e| {
        tracing::error!(provider = id, error = %e, "the OAuth session could not be read from the vault");
        ApiError::internal(&"the OAuth session could not be read from the vault")
    })
}

/// The engine configuration of a provider: a built-in (with its stored changes, if any) or a
/// custom one.
pub fn engine_config(
    state: &AppState,
    id: &str,
    record: Option<&ProviderRecord>,
) -> Result<ProviderConfig, ApiError> {
    let kind = builtin_kind(id).unwrap_or(ProviderKind::OpenAiCompatible);
    let defaults = builtin_kind(id).map(|k| builtin_config(&state.config, k));
    let base_url = record
        .map(|r| r.base_url.clone())
        .filter(|u| !u.is_empty())
        .or_else(|| defaults.map(|d| d.base_url.clone()))
        .unwrap_or_default();
    let mut config = ProviderConfig::new(id, kind, base_url);
    if kind == ProviderKind::Ollama {
        config.timeouts.connect = OLLAMA_CONNECT_TIMEOUT;
    }
    let auth = resolve_auth(state, kind, record)?;
    let oauth = matches!(record.map(|r| &r.auth), Some(AuthSource::OAuth { .. }));
    config.credentials = match auth.key {
        Some(_) if oauth => match oauth_tokens(state, id)? {
            Some(tokens) => {
                let token_url = state
                    .config
                    .providers
                    .anthropic
                    .oauth_token_url
                    .as_deref()
                    .unwrap_or(crate::oauth::FALLBACK_TOKEN_URL);
                crate::oauth::credentials(&state.vault, token_url, tokens)
            }
            None => Credentials::None,
        },
        Some(key) => Credentials::ApiKey(key),
        None => Credentials::None,
    };
    config.key_env_hint = match record.map(|r| &r.auth) {
        Some(AuthSource::Env { var }) => Some(var.clone()),
        _ => builtin_key_env(kind).map(str::to_string),
    };
    if let Some(d) = defaults {
        config.retry.max_retries = d.max_retries;
        config.timeouts.request = Duration::from_millis(d.timeout_ms);
        if let Some(limit) = &d.rate_limit {
            config.rate_limit = limit.clone();
        }
    }
    if let Some(r) = record {
        if !r.models.is_empty() && builtin_kind(id).is_none() {
            config.models = r.models.clone();
        }
        config.headers = r
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(limit) = &r.rate_limit {
            config.rate_limit = limit.clone();
        }
        if let Some(ms) = r.timeout_ms {
            config.timeouts.request = Duration::from_millis(ms);
        }
        if let Some(n) = r.max_retries {
            config.retry.max_retries = n;
        }
    }
    Ok(config)
}

/// The models a provider offers, as routing sees them.
pub fn provider_models(state: &AppState, id: &str, record: Option<&ProviderRecord>) -> Vec<String> {
    if let Some(r) = record.filter(|r| !r.models.is_empty()) {
        return r.models.clone();
    }
    match builtin_kind(id) {
        Some(kind) => builtin_config(&state.config, kind)
            .models
            .clone()
            .unwrap_or_else(|| builtin_models(kind).iter().map(|m| m.to_string()).collect()),
        None => Vec::new(),
    }
}

/// Starts (or reconfigures) the actor of provider `id` and registers it in the directory.
pub async fn start(
    state: &AppState,
    id: &str,
    record: Option<&ProviderRecord>,
) -> Result<(), ApiError> {
    let config = engine_config(state, id, record)?;
    let kind = config.kind;
    let mut models = provider_models(state, id, record);
    if kind == ProviderKind::Ollama && models.is_empty() {
        // Keep what discovery found; the next probe refreshes it.
        if let Some(previous) = state.directory.get(id) {
            models = previous.models;
        }
    }
    let addr = state
        .supervisor
        .send(Upsert(config))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(ApiError::from)?;
    state.directory.upsert(ProviderEntry {
        id: id.to_string(),
        kind,
        models,
        open_model_list: builtin_kind(id).is_some(),
        addr,
    });
    Ok(())
}

/// Starts the built-ins and every stored provider. A stored provider that cannot start is logged
/// and skipped, so one bad record never keeps the server down.
pub async fn start_all(state: &AppState) -> Result<(), ApiError> {
    let records = state
        .store
        .providers()
        .list()
        .map_err(|e| ApiError::internal(&e))?;
    for id in BUILTINS {
        let record = records.iter().find(|r| r.id == id);
        start(state, id, record).await?;
    }
    for record in records.iter().filter(|r| builtin_kind(&r.id).is_none()) {
        if let Err(e) = start(state, &record.id, Some(record)).await {
            tracing::error!(provider = %record.id, error = %e.message, "a stored provider could not start");
        }
    }
    Ok(())
}

/// The Provider object of the API. Never contains a key: only whether one is set and its last four.
pub async fn view(
    state: &AppState,
    id: &str,
    record: Option<&ProviderRecord>,
) -> Result<Value, ApiError> {
    let kind = builtin_kind(id).unwrap_or(ProviderKind::OpenAiCompatible);
    let config = engine_config(state, id, record)?;
    let auth = resolve_auth(state, kind, record)?;
    let auth_json = if kind == ProviderKind::Ollama && auth.key.is_none() {
        json!({"type": "none", "source": "none", "last4": null})
    } else {
        json!({
            "type": if auth.source == "oauth" { "oauth" } else { "api_key" },
            "source": auth.source,
            "set": auth.key.is_some(),
            "last4": auth.key.as_ref().and_then(ApiKey::last4),
        })
    };
    let entry = state.directory.get(id);
    let status = match &entry {
        Some(entry) => entry
            .addr
            .send(moxxy_actors::provider::actor::GetStatus)
            .await
            .ok(),
        None => None,
    };
    let mut detail = None;
    let (state_name, retry_at) = match status.map(|s| s.state) {
        Some(ProviderState::Ready) | None => ("ready", None),
        Some(ProviderState::AuthFailed { reason }) => {
            detail = Some(reason);
            ("auth_failed", None)
        }
        Some(ProviderState::NoCredentials) => ("no_credentials", None),
        Some(ProviderState::CoolingDown { retry_in }) => ("cooling_down", Some(retry_in)),
        Some(ProviderState::CircuitOpen { retry_in }) => ("circuit_open", Some(retry_in)),
        Some(ProviderState::Unreachable) | Some(ProviderState::Retired) => ("unreachable", None),
    };
    if state_name == "unreachable" {
        detail = Some(match kind {
            ProviderKind::Ollama => format!(
                "Ollama connection failed: could not reach {}",
                config.base_url.trim_end_matches('/')
            ),
            _ => format!("could not reach {}", config.base_url),
        });
    }
    // Ollama's list is what discovery found (the directory's), not a fixed one.
    let models = match entry {
        Some(entry) if kind == ProviderKind::Ollama => entry.models,
        _ => provider_models(state, id, record),
    };
    let retry_at = retry_at.map(|d| crate::time::rfc3339(std::time::SystemTime::now() + d));
    Ok(json!({
        "id": id,
        "kind": kind.as_str(),
        "base_url": config.base_url,
        "models": models,
        "auth": auth_json,
        "status": {"state": state_name, "detail": detail, "retry_at": retry_at},
        "rate_limit": record.and_then(|r| r.rate_limit.clone()),
        "headers": record.map(|r| r.headers.keys().cloned().collect::<Vec<_>>()).unwrap_or_default(),
        "timeout_ms": record.and_then(|r| r.timeout_ms),
        "max_retries": record.and_then(|r| r.max_retries),
        "created_at": record.map(|r| r.created_at.clone()),
    }))
}
