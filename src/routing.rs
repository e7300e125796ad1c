//! Model names to a provider and the upstream's model id (API.md, "Models and names").
//!
//! A client names a model in one of three ways, tried in this order:
//!
//! 1. an alias from `[aliases]` in config.toml (`opus`, `gpt-4.1`, …), an exact match that maps to
//!    a `PROVIDER/MODEL` target. Aliases come first because they are the operator's explicit
//!    choice: the default `gpt-4.1` alias keeps that name on OpenAI even when a relay also offers
//!    it. A target is resolved by rules 2 and 3 only, so aliases never chain.
//! 2. `PROVIDER/MODEL`, split at the first `/` so model ids that contain `/` (`ollama/library/llama3`,
//!    `together/meta-llama/Llama-3-70b`) work. A built-in or Ollama provider takes any model (the
//!    upstream decides); a custom provider only the models it was registered with.
//! 3. a bare id, which must be offered by exactly one provider.
//!
//! Ollama's convention applies to Ollama names: no tag means `:latest`, both when matching the
//! pulled models and in the id sent upstream. Every failure names the model exactly as the client
//! sent it.

use std::collections::BTreeMap;

use actix::Addr;
use moxxy_actors::provider::ollama::normalize_model;
use moxxy_actors::provider::{ProviderActor, ProviderKind};

use crate::api::ApiError;
use crate::directory::ProviderEntry;

/// Where a request goes.
#[derive(Debug, Clone)]
pub struct Route {
    /// The provider's id.
    pub provider: String,
    /// The upstream's model id: the part after `PROVIDER/`, with `:latest` added for an Ollama
    /// name without a tag.
    pub model: String,
    pub addr: Addr<ProviderActor>,
}

/// Resolves the model `name` a client sent against the running providers (`directory`, from
/// `Directory::snapshot()`) and the configured `aliases`.
///
/// Errors: 404 `Model 'NAME' not found` when nothing offers it; 400 listing the `PROVIDER/MODEL`
/// choices when a bare id is offered by several providers.
pub fn resolve(
    name: &str,
    directory: &BTreeMap<String, ProviderEntry>,
    aliases: &BTreeMap<String, String>,
) -> Result<Route, ApiError> {
    match aliases.get(name) {
        Some(target) => resolve_name(name, target, directory),
        None => resolve_name(name, name, directory),
    }
}

/// Resolves `name` by rules 2 and 3; `sent` is what the client asked for, used in errors.
fn resolve_name(
    sent: &str,
    name: &str,
    directory: &BTreeMap<String, ProviderEntry>,
) -> Result<Route, ApiError> {
    if let Some((prefix, model)) = name.split_once('/') {
        if let Some(entry) = directory.get(prefix) {
            if let Some(route) = explicit(entry, model) {
                return Ok(route);
            }
        }
    }
    bare(sent, name, directory)
}

/// `PROVIDER/MODEL` for a provider that exists: whether it takes `model`.
fn explicit(entry: &ProviderEntry, model: &str) -> Option<Route> {
    if model.is_empty() {
        return None;
    }
    if entry.kind == ProviderKind::Ollama {
        // The pulled list may be stale and Ollama answers 404 for what it lacks.
        return Some(route(entry, normalize_model(model)));
    }
    if entry.open_model_list || entry.models.iter().any(|m| m == model) {
        return Some(route(entry, model.to_string()));
    }
    None
}

/// A bare id: the one provider that offers it.
fn bare(
    sent: &str,
    name: &str,
    directory: &BTreeMap<String, ProviderEntry>,
) -> Result<Route, ApiError> {
    let mut offers = directory
        .values()
        .filter_map(|entry| offered(entry, name).map(|model| (entry, model)));
    let Some((entry, model)) = offers.next() else {
        return Err(model_not_found(sent));
    };
    let others: Vec<&ProviderEntry> = offers.map(|(other, _)| other).collect();
    if others.is_empty() {
        return Ok(route(entry, model));
    }
    let choices: Vec<String> = std::iter::once(entry)
        .chain(others)
        .map(|e| format!("{}/{name}", e.id))
        .collect();
    Err(ApiError::bad_request(format!(
        "Model '{sent}' is offered by several providers - use one of: {}",
        choices.join(", ")
    ))
    .with_code("ambiguous_model")
    .with_param("model"))
}

/// The upstream id under which `entry` offers the bare id `name`, if it does.
fn offered(entry: &ProviderEntry, name: &str) -> Option<String> {
    if entry.kind == ProviderKind::Ollama {
        let wanted = normalize_model(name);
        let pulled = entry.models.iter().any(|m| normalize_model(m) == wanted);
        return pulled.then_some(wanted);
    }
    entry
        .models
        .iter()
        .any(|m| m == name)
        .then(|| name.to_string())
}

fn route(entry: &ProviderEntry, model: String) -> Route {
    Route {
        provider: entry.id.clone(),
        model,
        addr: entry.addr.clone(),
    }
}

/// 404 `Model 'NAME' not found`, word for word as documented, with `name` as the client sent it.
pub fn model_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Model '{name}' not found"))
        .with_code("model_not_found")
        .with_param("model")
}
