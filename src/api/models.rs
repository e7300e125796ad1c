//! The model lists: `GET /v1/models` (every provider's models, in OpenAI's list format, so OpenAI
//! SDKs can list them) and `GET /v1/providers/{id}/models` (one provider's, with where each name
//! comes from).

use actix_web::{web, HttpResponse};
use moxxy_actors::provider::actor::GetStatus;
use moxxy_actors::provider::{self, ProviderKind, ProviderState};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;

/// `GET /v1/models`: every model of every provider as `PROVIDER/MODEL`, the name that always
/// routes to exactly that provider.
pub async fn list_models(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Chat)?;
    let directory = state.directory.snapshot();
    let mut data: Vec<Value> = Vec::new();
    for entry in directory.values() {
        // Only providers that can answer: a provider without a key, or unreachable, lists nothing.
        let ready = matches!(
            entry.addr.send(GetStatus).await.map(|s| s.state),
            Ok(ProviderState::Ready | ProviderState::CoolingDown { .. })
        );
        if !ready {
            continue;
        }
        data.extend(entry.models.iter().map(|model| {
            json!({
                "id": format!("{}/{model}", entry.id),
                "object": "model",
                "created": 0,
                "owned_by": entry.id,
            })
        }));
    }
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}

/// The query of `GET /v1/providers/{id}/models`.
#[derive(Debug, Deserialize)]
pub struct ModelsQuery {
    /// `upstream`: ask the upstream now (a custom provider's `/models`; for Anthropic and OpenAI,
    /// past the cache).
    #[serde(default)]
    pub refresh: Option<String>,
}

/// `GET /v1/providers/{id}/models`: one provider's models by their upstream ids, each with its
/// `source`; 404 `Provider 'ID' not found`.
///
/// Anthropic and OpenAI list live from the upstream (cached, see [`crate::model_lists`]) and
/// fall back to their static list when it cannot be asked: a missing key or an unreachable
/// upstream never makes this an error. A custom provider lists its registration, or with
/// `?refresh=upstream` its upstream's `/models` (errors are reported then: it was asked for).
pub async fn provider_models(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: web::Query<ModelsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let id = id.into_inner();
    let refresh = match query.refresh.as_deref() {
        None => false,
        Some("upstream") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "refresh: '{other}' is not a refresh - the only one is 'upstream'"
            ))
            .with_param("refresh"))
        }
    };
    let entry = state
        .directory
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("Provider '{id}' not found")))?;
    let (models, source) = match entry.kind {
        ProviderKind::Anthropic | ProviderKind::OpenAi => {
            match state.model_lists.live(&id, &entry.addr, refresh).await {
                Ok(live) => {
                    // Routing by bare id and `GET /v1/models` see what the upstream offers now.
                    state.directory.set_models(&id, live.to_vec());
                    (live.to_vec(), "upstream")
                }
                Err(e) => {
                    tracing::info!(provider = %id, error = %e.message,
                        "the upstream's model list could not be read; listing the static one");
                    static_list(&state, &id)?
                }
            }
        }
        ProviderKind::OpenAiCompatible if refresh => {
            let live = provider::list_models(&entry.addr)
                .await
                .map_err(ApiError::from)?;
            (live, "upstream")
        }
        ProviderKind::OpenAiCompatible => (entry.models.clone(), "registration"),
        // Ollama's list is what discovery read from `/api/tags`.
        ProviderKind::Ollama => (entry.models.clone(), "upstream"),
    };
    let data: Vec<Value> = models
        .iter()
        .map(|model| json!({"id": model, "provider": id, "source": source}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}

/// A built-in's list when its upstream cannot be asked: the models an operator stored for it
/// (`registration`), else the configured or built-in list (`builtin`).
fn static_list(state: &AppState, id: &str) -> Result<(Vec<String>, &'static str), ApiError> {
    let record = state
        .store
        .providers()
        .get(id)
        .map_err(|e| ApiError::internal(&e))?;
    let source = match &record {
        Some(r) if !r.models.is_empty() => "registration",
        _ => "builtin",
    };
    Ok((
        crate::registry::provider_models(state, id, record.as_ref()),
        source,
    ))
}
