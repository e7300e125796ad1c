//! Errors both ways: an upstream's error body (OpenAI, xAI, Gemini shapes or raw text) to a
//! [`ProviderError`], and a [`ProviderError`] to the OpenAI error body Moxxy's clients parse.

use serde_json::{json, Value};

use crate::error::{ErrorKind, ProviderError};

/// The longest upstream text kept in a message when the body is not JSON.
const MAX_RAW_CHARS: usize = 200;

/// What an error body said, whatever its shape.
#[derive(Debug, Default)]
struct Parsed {
    message: Option<String>,
    /// OpenAI `type`, or Gemini's `status` name.
    kind: Option<String>,
    /// OpenAI `code` (or xAI's top-level `code`) when it is a string.
    code: Option<String>,
    param: Option<String>,
    /// Gemini's integer `code`, an HTTP status.
    status: Option<u16>,
}

/// Maps an upstream's non-2xx answer to an error. `model` names the model in a "not found" error.
pub fn decode_error(status: u16, body: &[u8], model: &str) -> ProviderError {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let parsed = match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => parse_value(&value),
        Err(_) => Parsed {
            message: raw_message(trimmed),
            ..Parsed::default()
        },
    };
    classify(Some(status), parsed, model)
}

/// The error inside a JSON value that has an `error` field (a 200 body or a stream chunk), or
/// `None` when the value is not an error.
pub(super) fn error_in_value(value: &Value, model: &str) -> Option<ProviderError> {
    let inner = match value {
        Value::Array(items) => items.first()?,
        other => other,
    };
    match inner.get("error") {
        None | Some(Value::Null) => None,
        Some(_) => Some(classify(None, parse_value(inner), model)),
    }
}

/// Reads the OpenAI, xAI and Gemini shapes (and Gemini's array-wrapped form).
fn parse_value(value: &Value) -> Parsed {
    let value = match value {
        Value::Array(items) => items.first().unwrap_or(&Value::Null),
        other => other,
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    match value.get("error") {
        Some(Value::Object(error)) => Parsed {
            message: text(error.get("message")),
            kind: text(error.get("type")).or_else(|| text(error.get("status"))),
            code: text(error.get("code")),
            param: text(error.get("param")),
            status: error
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok()),
        },
        // xAI: `{"code": "…", "error": "<message>"}`; Ollama: `{"error": "<message>"}`.
        Some(Value::String(message)) => Parsed {
            message: Some(message.clone()),
            code: text(value.get("code")),
            ..Parsed::default()
        },
        // Relays that answer `{"message": …}` or FastAPI's `{"detail": …}`.
        _ => Parsed {
            message: text(value.get("message")).or_else(|| text(value.get("detail"))),
            ..Parsed::default()
        },
    }
}

/// Text of a body that is not JSON: an HTML page is reduced to its title, anything else is cut.
fn raw_message(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    if text.starts_with('<') {
        let lower = text.to_ascii_lowercase();
        let title = lower
            .find("<title>")
            .map(|start| start + "<title>".len())
            .and_then(|start| {
                let end = start + lower.get(start..)?.find("</title>")?;
                text.get(start..end)
            })
            .map(str::trim)
            .filter(|t| !t.is_empty());
        return Some(match title {
            Some(title) => format!("the upstream answered with an HTML page: {}", cut(title)),
            None => "the upstream answered with an HTML page".to_string(),
        });
    }
    Some(cut(text))
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_RAW_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Picks the kind from the status (or, for errors inside a 200 answer, what the body says).
fn classify(http_status: Option<u16>, parsed: Parsed, model: &str) -> ProviderError {
    let reported = http_status.or(parsed.status);
    let status = reported.or_else(|| status_from_type(&parsed));
    let named =
        |name: &str| parsed.code.as_deref() == Some(name) || parsed.kind.as_deref() == Some(name);
    let message_has = |needle: &str| {
        parsed
            .message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains(needle))
    };
    let upstream_message = || {
        parsed.message.clone().unwrap_or_else(|| match status {
            Some(s) => format!("the upstream answered HTTP {s}"),
            None => "the upstream reported an error".to_string(),
        })
    };
    let with_message = |kind| ProviderError::new(kind, upstream_message());

    let mut error = if named("insufficient_quota") || named("credit_balance_exhausted") {
        with_message(ErrorKind::Billing)
    } else {
        match status {
            Some(400) if message_has("api key") => ProviderError::authentication(),
            Some(400 | 422) => with_message(ErrorKind::InvalidRequest),
            Some(401) => ProviderError::authentication(),
            Some(402) => with_message(ErrorKind::Billing),
            // xAI's out-of-credit 403 and region/model-access 403s are not about the key.
            Some(403) if message_has("credit") => with_message(ErrorKind::Billing),
            Some(403)
                if named("unsupported_country_region_territory")
                    || message_has("access to model") =>
            {
                with_message(ErrorKind::Permission)
            }
            Some(403) => ProviderError::authentication(),
            Some(404) if named("model_not_found") || message_has("model") => {
                ProviderError::model_not_found(model)
            }
            Some(404) => with_message(ErrorKind::NotFound),
            Some(408) => with_message(ErrorKind::Timeout),
            // The SDKs retry a conflict.
            Some(409) => with_message(ErrorKind::Upstream),
            Some(413) => with_message(ErrorKind::RequestTooLarge),
            Some(429) => ProviderError::rate_limited(None),
            Some(503 | 529) => with_message(ErrorKind::Overloaded),
            Some(504) => with_message(ErrorKind::Timeout),
            Some(s) if (400..500).contains(&s) => with_message(ErrorKind::InvalidRequest),
            _ => with_message(ErrorKind::Upstream),
        }
    };
    error.status = reported;
    error.upstream_type = parsed.code.or(parsed.kind);
    error.param = parsed.param;
    error
}

/// A status for an error that came without one (inside a 200 answer or a stream), from its type.
fn status_from_type(parsed: &Parsed) -> Option<u16> {
    let name = parsed.code.as_deref().or(parsed.kind.as_deref())?;
    Some(match name {
        "invalid_request_error" | "INVALID_ARGUMENT" | "FAILED_PRECONDITION" => 400,
        "authentication_error" | "invalid_api_key" | "UNAUTHENTICATED" => 401,
        "permission_error" | "PERMISSION_DENIED" => 403,
        "not_found_error" | "model_not_found" | "NOT_FOUND" => 404,
        "rate_limit_exceeded"
        | "rate_limit_error"
        | "RESOURCE_EXHAUSTED"
        | "tokens"
        | "requests" => 429,
        "server_is_overloaded" | "overloaded_error" | "slow_down" | "UNAVAILABLE" => 503,
        "timeout_error" | "DEADLINE_EXCEEDED" => 504,
        _ => return None,
    })
}

/// Renders an error as the body OpenAI's SDKs parse: `{"error":{"message","type","param","code"}}`.
/// `type` and `code` follow OpenAI's own names where it has one; an invalid request keeps the
/// upstream's code (`unsupported_parameter`, `context_length_exceeded`, …) so clients can act on it.
pub fn encode_error(err: &ProviderError) -> Value {
    let (kind, code) = match err.kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", None),
        ErrorKind::Authentication => ("authentication_error", Some("invalid_api_key")),
        ErrorKind::Permission => ("permission_error", Some("permission_denied")),
        ErrorKind::Billing => ("insufficient_quota", Some("insufficient_quota")),
        ErrorKind::ModelNotFound => ("invalid_request_error", Some("model_not_found")),
        ErrorKind::NotFound => ("not_found_error", Some("not_found")),
        ErrorKind::RequestTooLarge => ("invalid_request_error", Some("request_too_large")),
        ErrorKind::RateLimited => ("rate_limit_error", Some("rate_limit_exceeded")),
        ErrorKind::Overloaded => ("server_error", Some("server_is_overloaded")),
        ErrorKind::Upstream => ("server_error", Some("upstream_error")),
        ErrorKind::Unreachable => ("server_error", Some("upstream_unreachable")),
        ErrorKind::Timeout => ("server_error", Some("timeout")),
        ErrorKind::NoCredentials => ("authentication_error", Some("no_credentials")),
        ErrorKind::CircuitOpen => ("server_error", Some("circuit_open")),
        ErrorKind::Unavailable => ("server_error", Some("provider_unavailable")),
        ErrorKind::Cancelled => ("server_error", Some("cancelled")),
    };
    let code = code
        .map(str::to_string)
        .or_else(|| err.upstream_type.clone());
    json!({"error": {"message": err.message, "type": kind, "param": err.param, "code": code}})
}
