//! Model names and the `/api/tags` listing of pulled models.

use serde::Deserialize;

use super::shared::{truncate, upstream, MAX_RAW_ERROR_CHARS};
use crate::error::ProviderError;

/// The name as Ollama lists it: `[host/][namespace/]model[:tag]` with the tag defaulting to
/// `latest`, so `llama3` and `llama3:latest` compare equal against `/api/tags`. Only the last path
/// segment is searched for a tag, because a registry host may carry a port (`host:5000/m`).
pub fn normalize_model(name: &str) -> String {
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    if name.is_empty() || last_segment.contains(':') || last_segment.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    models: Option<Vec<TagModel>>,
}

#[derive(Deserialize)]
struct TagModel {
    #[serde(default)]
    name: Option<String>,
    /// The same name again on current servers; the only one on some proxies.
    #[serde(default)]
    model: Option<String>,
}

/// The names of the pulled models in a `GET /api/tags` body, in the server's order.
pub fn decode_tags(body: &[u8]) -> Result<Vec<String>, ProviderError> {
    let tags: Tags = serde_json::from_slice(body).map_err(|e| {
        upstream(format!(
            "Ollama's /api/tags answer is not the expected JSON ({e}): {}",
            truncate(&String::from_utf8_lossy(body), MAX_RAW_ERROR_CHARS)
        ))
    })?;
    Ok(tags
        .models
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.name.filter(|n| !n.is_empty()).or(m.model))
        .filter(|n| !n.is_empty())
        .collect())
}
