//! Small rules both directions of the Ollama mapping share: generated ids, error constructors,
//! the stop-reason table and how tool-call arguments become the JSON object Ollama wants.

use rand::distr::{Alphanumeric, SampleString};
use serde_json::Value;

use crate::error::{ErrorKind, ProviderError};
use crate::messages::{parse_arguments, JsonObject, StopReason};

/// Longest raw-text error body quoted in a message: enough to recognise it, too short to flood a
/// log with an HTML error page.
pub(super) const MAX_RAW_ERROR_CHARS: usize = 200;

/// A fresh id. Ollama's native API has none for messages and only newer servers give tool calls
/// one, while every client protocol needs them.
pub(super) fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        Alphanumeric.sample_string(&mut rand::rng(), 24)
    )
}

/// A message id for an answer (Ollama gives none).
pub(super) fn new_message_id() -> String {
    new_id("msg_")
}

/// A tool-call id in Ollama's own `call_…` style.
pub(super) fn new_call_id() -> String {
    new_id("call_")
}

/// An error in the client's request, naming the field to fix.
pub(super) fn invalid(param: impl Into<String>, message: impl Into<String>) -> ProviderError {
    ProviderError {
        param: Some(param.into()),
        ..ProviderError::new(ErrorKind::InvalidRequest, message)
    }
}

/// A failure of the upstream, or an answer that is not Ollama's protocol.
pub(super) fn upstream(message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::Upstream, message)
}

/// `text` cut to at most `max` characters (never inside a character), with `…` when cut.
pub(super) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The message of an Ollama error value: `{"error":"…"}` carries a string; proxies in front of
/// Ollama sometimes send OpenAI's `{"error":{"message":"…"}}`.
pub(super) fn error_text(error: &Value) -> Option<String> {
    match error {
        Value::String(text) => Some(text.clone()),
        Value::Object(map) => match map.get("message") {
            Some(Value::String(text)) => Some(text.clone()),
            _ => Some(Value::Object(map.clone()).to_string()),
        },
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Refuses an answer that is not a completion: `done_reason` `load` / `unload` means the request
/// only loaded or unloaded the model (no messages), which must not pass for an empty answer.
pub(super) fn check_completion(done_reason: Option<&str>) -> Result<(), ProviderError> {
    match done_reason {
        Some(reason @ ("load" | "unload")) => Err(upstream(format!(
            "Ollama {reason}ed the model but produced no completion (done_reason \"{reason}\"); \
             send at least one message"
        ))),
        _ => Ok(()),
    }
}

/// The unified stop reason for a `done_reason` (after [`check_completion`]). Ollama has no
/// tool-use reason (it says `stop`), so tool use is inferred from the calls seen.
pub(super) fn stop_reason(done_reason: Option<&str>, saw_tool_calls: bool) -> StopReason {
    match done_reason.unwrap_or("") {
        "" | "stop" if saw_tool_calls => StopReason::ToolUse,
        "" | "stop" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        other => StopReason::Other(other.to_string()),
    }
}

/// The `done_reason` Ollama clients expect for a unified stop reason: Ollama knows only `stop` and
/// `length`, and reports tool use as `stop`.
pub(super) fn done_reason(reason: &StopReason) -> &str {
    match reason {
        StopReason::MaxTokens => "length",
        StopReason::Other(other) => other,
        StopReason::EndTurn
        | StopReason::StopSequence
        | StopReason::ToolUse
        | StopReason::ContentFilter
        | StopReason::Paused => "stop",
    }
}

/// Tool-call arguments as received from Ollama, in the unified form: an object stays as is, text
/// is parsed like the OpenAI-style protocols' (kept raw when invalid), absent means `{}`.
pub(super) fn arguments_from_wire(arguments: Option<Value>) -> Value {
    match arguments {
        None | Some(Value::Null) => Value::Object(JsonObject::new()),
        Some(Value::String(text)) => parse_arguments(&text),
        Some(other) => other,
    }
}

/// Tool-call arguments as the JSON object Ollama requires, or `None` when they are not one.
/// Text holding a JSON object (as OpenAI-style protocols carry it) is parsed; absent or empty
/// arguments are `{}`.
pub(super) fn arguments_object(arguments: &Value) -> Option<JsonObject> {
    match arguments {
        Value::Object(map) => Some(map.clone()),
        Value::Null => Some(JsonObject::new()),
        Value::String(text) if text.trim().is_empty() => Some(JsonObject::new()),
        Value::String(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        },
        _ => None,
    }
}
