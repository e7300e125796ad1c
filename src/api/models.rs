//! The model lists: `GET /v1/models` (every provider's models, in OpenAI's list format, so OpenAI
//! SDKs can list them) and `GET /v1/providers/{id}/models` (one provider's, with where each name
//! comes from).

use actix_web::{web, HttpResponse};
use moxxy_actors::provider::actor::GetStatus;
use moxxy_actors::provider::{ProviderKind, ProviderState};
use serde_json::{json, Value};

use super::{ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;
use crate::directory::ProviderEntry;

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

/// `GET /v1/providers/{id}/models`: one provider's models by their upstream ids, each with its
/// `source`; 404 `Provider 'ID' not found`.
pub async fn provider_models(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let id = id.into_inner();
    let entry = state
        .directory
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("Provider '{id}' not found")))?;
    let source = source(&entry);
    let data: Vec<Value> = entry
        .models
        .iter()
        .map(|model| json!({"id": model, "provider": entry.id, "source": source}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}

/// Where a provider's list comes from: the built-in list (Anthropic, OpenAI), the registration
/// (custom providers) or the upstream itself (Ollama's pulled models).
fn source(entry: &ProviderEntry) -> &'static str {
    match entry.kind {
        ProviderKind::Anthropic | ProviderKind::OpenAi => "builtin",
        ProviderKind::OpenAiCompatible => "registration",
        ProviderKind::Ollama => "upstream",
    }
}
