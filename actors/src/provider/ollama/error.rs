//! Ollama's error bodies (`{"error":"<message>"}`, PROTOCOLS.md §3.6), both directions.

use serde_json::{json, Value};

use super::shared::{error_text, truncate, upstream, MAX_RAW_ERROR_CHARS};
use crate::error::{ErrorKind, ProviderError};

/// The longest upstream error message kept: Ollama's own are one line, but a proxy may answer
/// anything.
const MAX_JSON_ERROR_CHARS: usize = 1000;

/// The error for a non-2xx answer of `/api/chat` about `model`.
///
/// - 400: the request is invalid; Ollama's message (`"x" does not support tools`, …) is kept.
/// - 404: with Ollama's JSON body the model is not pulled (`model "x" not found, try pulling it
///   first`); a plain-text 404 (`404 page not found`) means the address is not an Ollama API.
/// - 401/403 (ollama.com or an authenticating proxy), 429 (cloud limits), 499 (cancelled),
///   503 (queue full), other 5xx.
pub fn decode_error(status: u16, body: &[u8], model: &str) -> ProviderError {
    let (message, is_ollama_body) = match body_message(body) {
        Some((message, is_json)) => (message, is_json),
        None => (format!("HTTP {status} with an empty body"), false),
    };
    let mut error = match status {
        401 | 403 => ProviderError::authentication(),
        404 if is_ollama_body || message.contains("model") => ProviderError::model_not_found(model),
        404 => ProviderError::new(
            ErrorKind::NotFound,
            format!(
                "Ollama's /api/chat was not found ({message}): check that the base URL points at \
                 an Ollama server"
            ),
        ),
        408 => ProviderError::new(ErrorKind::Timeout, format!("Ollama timed out: {message}")),
        413 => ProviderError::new(ErrorKind::RequestTooLarge, message),
        429 => ProviderError::rate_limited(None),
        499 => ProviderError::new(
            ErrorKind::Cancelled,
            format!("Ollama cancelled the request: {message}"),
        ),
        503 => ProviderError::new(
            ErrorKind::Overloaded,
            format!("Ollama is overloaded: {message}"),
        ),
        // 400 and the rest of 4xx: the request is at fault, in Ollama's words.
        400..=499 => ProviderError::new(ErrorKind::InvalidRequest, message),
        _ => upstream(format!("Ollama failed (HTTP {status}): {message}")),
    };
    error.status = Some(status);
    error
}

/// The message of an error body and whether it was Ollama's JSON shape; `None` when empty.
/// Raw text (an HTML page from a proxy, Go's `404 page not found`) is cut short.
fn body_message(body: &[u8]) -> Option<(String, bool)> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) {
        if let Some(message) = object.get("error").and_then(error_text) {
            return Some((truncate(&message, MAX_JSON_ERROR_CHARS), true));
        }
    }
    Some((truncate(text, MAX_RAW_ERROR_CHARS), false))
}

/// The body an Ollama client expects for `err`: `{"error":"<message>"}`.
pub fn encode_error(err: &ProviderError) -> Value {
    json!({ "error": err.message })
}
