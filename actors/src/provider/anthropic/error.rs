//! Errors: Anthropic's error bodies and `error` stream events to [`ProviderError`] (upstream
//! direction), and a [`ProviderError`] as Anthropic's error body (client direction).

use serde_json::{json, Value};

use super::json::{excerpt, str_at};
use crate::error::{ErrorKind, ProviderError};

/// How much of a body that is not Anthropic's error JSON (a Cloudflare page) an error quotes.
const BODY_EXCERPT_CHARS: usize = 200;

/// Maps an HTTP error answer from Anthropic (PROTOCOLS.md §1.6) to a [`ProviderError`].
///
/// The kind follows the status: 400 invalid request (Anthropic's message kept), 401/403 the
/// documented authentication message, 402 billing, 404 "model not found" when the message is
/// about the model (else not found), 413 too large, 429 the documented rate-limit message (or
/// billing for a spend-limit 429, unverified), 500 upstream, 504 timeout, 529 overloaded, other
/// 5xx upstream, other 4xx invalid request (408 and 409 marked retryable, as the SDKs retry
/// them). `status`, `upstream_type` (from the body, else the type Anthropic uses for that status)
/// and the body's `request_id` are always filled in. The transport adds `retry_after` from the
/// headers and redacts the key.
pub fn decode_error(status: u16, body: &[u8], model: &str) -> ProviderError {
    let parsed = ErrorBody::parse(status, body);
    let message = parsed.message.clone();
    let mut err = match status {
        401 | 403 => ProviderError::authentication(),
        402 => ProviderError::new(ErrorKind::Billing, message),
        404 if !model.is_empty() && message.to_lowercase().contains("model") => {
            ProviderError::model_not_found(model)
        }
        404 => ProviderError::new(ErrorKind::NotFound, message),
        413 => ProviderError::new(ErrorKind::RequestTooLarge, message),
        429 if parsed.spend_limit => ProviderError {
            should_retry: Some(false),
            ..ProviderError::new(ErrorKind::Billing, message)
        },
        429 => ProviderError::rate_limited(None),
        504 => ProviderError::new(ErrorKind::Timeout, message),
        529 => ProviderError::new(ErrorKind::Overloaded, message),
        500..=599 => ProviderError::new(ErrorKind::Upstream, message),
        408 | 409 => ProviderError {
            should_retry: Some(true),
            ..ProviderError::new(ErrorKind::InvalidRequest, message)
        },
        400..=499 => ProviderError::new(ErrorKind::InvalidRequest, message),
        // An error body with a success status: judge by the error's own type.
        _ => from_type(parsed.kind.as_deref().unwrap_or("api_error"), &message),
    };
    err.status = Some(status);
    err.upstream_type = parsed
        .kind
        .or_else(|| Some(type_for_status(status).to_string()));
    err.request_id = parsed.request_id;
    err
}

/// An error named by Anthropic's error type (the `error` stream event, which has no status).
pub(super) fn from_type(kind: &str, message: &str) -> ProviderError {
    let mut err = match kind {
        "invalid_request_error" => ProviderError::new(ErrorKind::InvalidRequest, message),
        "authentication_error" | "permission_error" => ProviderError::authentication(),
        "billing_error" => ProviderError::new(ErrorKind::Billing, message),
        "not_found_error" => ProviderError::new(ErrorKind::NotFound, message),
        "request_too_large" => ProviderError::new(ErrorKind::RequestTooLarge, message),
        "rate_limit_error" => ProviderError::rate_limited(None),
        "timeout_error" => ProviderError::new(ErrorKind::Timeout, message),
        "overloaded_error" => ProviderError::new(ErrorKind::Overloaded, message),
        _ => ProviderError::new(ErrorKind::Upstream, message),
    };
    err.upstream_type = Some(kind.to_string());
    err
}

/// Anthropic's error body for a client of Moxxy's `/v1/messages`:
/// `{"type":"error","error":{"type","message"},"request_id"?}`.
pub fn encode_error(err: &ProviderError) -> Value {
    let mut body = json!({
        "type": "error",
        "error": {"type": type_for_kind(&err.kind), "message": err.message},
    });
    if let (Some(id), Value::Object(map)) = (&err.request_id, &mut body) {
        map.insert("request_id".into(), json!(id));
    }
    body
}

/// The Anthropic error type a client's SDK expects for each kind, so it retries (or not) as it
/// would against Anthropic.
pub(super) fn type_for_kind(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "invalid_request_error",
        ErrorKind::Authentication | ErrorKind::NoCredentials => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::Billing => "billing_error",
        ErrorKind::ModelNotFound | ErrorKind::NotFound => "not_found_error",
        ErrorKind::RequestTooLarge => "request_too_large",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Overloaded | ErrorKind::CircuitOpen => "overloaded_error",
        ErrorKind::Timeout => "timeout_error",
        ErrorKind::Upstream
        | ErrorKind::Unreachable
        | ErrorKind::Unavailable
        | ErrorKind::Cancelled => "api_error",
    }
}

/// The error type Anthropic documents for a status, for bodies that do not say.
fn type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

/// What an error body says.
struct ErrorBody {
    kind: Option<String>,
    message: String,
    request_id: Option<String>,
    /// A 429 caused by the organisation's spend limit, which waiting does not fix.
    spend_limit: bool,
}

impl ErrorBody {
    fn parse(status: u16, body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Self::not_json(status, body);
        };
        let error = value.get("error").unwrap_or(&Value::Null);
        let message = str_at(error, "message")
            .filter(|m| !m.trim().is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| format!("Anthropic returned HTTP {status}"));
        ErrorBody {
            kind: str_at(error, "type").map(str::to_string),
            message,
            request_id: str_at(&value, "request_id").map(str::to_string),
            spend_limit: error.get("details").and_then(|d| str_at(d, "error_code"))
                == Some("enforced_spend_limit_reached"),
        }
    }

    /// A body that is not JSON (an HTML page from a proxy): its `<title>` or its start.
    fn not_json(status: u16, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let summary = html_title(&text).unwrap_or(&text);
        let summary = excerpt(summary, BODY_EXCERPT_CHARS);
        let message = if summary.is_empty() {
            format!("Anthropic returned HTTP {status} with an empty body")
        } else {
            format!("Anthropic returned HTTP {status} with a non-JSON body: {summary}")
        };
        ErrorBody {
            kind: None,
            message,
            request_id: None,
            spend_limit: false,
        }
    }
}

fn html_title(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower.get(open..)?.find('>')? + 1;
    let end = start + lower.get(start..)?.find("</title")?;
    text.get(start..end).filter(|t| !t.trim().is_empty())
}
