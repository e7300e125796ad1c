//! Errors of `/v1/messages`, in Anthropic's shape.
//!
//! The Anthropic SDKs read `{"type":"error","error":{"type","message"}}` and pick their exception
//! class from the status, so every error of this route — a bad token, a bad body, a model that
//! routes nowhere, an upstream failure — renders that way, never in the OpenAI-style shape of the
//! rest of the API. The body's `request_id` and the `request-id` header (the one the SDKs read)
//! both equal the response's `x-request-id`.

use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use moxxy_actors::provider::anthropic;
use moxxy_actors::{ErrorKind, ProviderError};
use serde_json::{json, Value};

use crate::api::error::current_request_id;
use crate::api::ApiError;

/// The header the Anthropic SDKs read the request id from (`_request_id`, error messages).
pub(super) const REQUEST_ID_HEADER: &str = "request-id";

/// An error as a client of `/v1/messages` sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MessagesError {
    pub status: StatusCode,
    /// Anthropic's error type: `invalid_request_error`, `not_found_error`, `rate_limit_error`, …
    pub error_type: String,
    pub message: String,
    /// Sent as `Retry-After` (whole seconds, rounded up).
    pub retry_after: Option<Duration>,
}

impl MessagesError {
    /// An engine failure: an upstream's, or the body decoder's (a 400 naming the field). The
    /// status is the one the rest of the API gives; the type is the engine's Anthropic encoding, so the SDKs retry exactly what they would retry against
    /// Anthropic. An upstream "model not found" names the model as the client sent it.
    pub fn from_provider(mut error: ProviderError, sent_model: &str) -> Self {
        if error.kind == ErrorKind::ModelNotFound {
            error.message = format!("Model '{sent_model}' not found");
        }
        let encoded = anthropic::encode_error(&error);
        let error_type = encoded
            .pointer("/error/type")
            .and_then(Value::as_str)
            .unwrap_or("api_error")
            .to_string();
        let api = ApiError::from(error);
        MessagesError {
            status: api.status,
            error_type,
            message: api.message,
            retry_after: api.retry_after,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "type": "error",
            "error": {"type": self.error_type, "message": self.message},
            "request_id": current_request_id(),
        })
    }
}

impl From<ApiError> for MessagesError {
    /// One of the server's own errors (auth, body, routing) with Anthropic's type for its status.
    fn from(error: ApiError) -> Self {
        MessagesError {
            status: error.status,
            error_type: type_for_status(error.status).to_string(),
            message: error.message,
            retry_after: error.retry_after,
        }
    }
}

/// Anthropic's error type for a status. Our 503 stays 503 (Anthropic says 529, which no HTTP
/// library names) but carries `overloaded_error`, which the SDKs treat the same way.
fn type_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 409 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

impl ResponseError for MessagesError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status).json(self.body());
        let headers = response.headers_mut();
        if let Ok(id) = HeaderValue::from_str(&current_request_id()) {
            headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), id);
        }
        if let Some(after) = self.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                headers.insert(RETRY_AFTER, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_get_anthropic_types() {
        let cases = [
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (403, "permission_error"),
            (404, "not_found_error"),
            (413, "request_too_large"),
            (422, "invalid_request_error"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (502, "api_error"),
            (503, "overloaded_error"),
            (504, "timeout_error"),
        ];
        for (status, expected) in cases {
            let status = StatusCode::from_u16(status).unwrap_or_default();
            assert_eq!(type_for_status(status), expected, "{status}");
        }
    }

    #[test]
    fn an_upstream_model_not_found_names_the_model_sent() {
        let error = ProviderError::model_not_found("llama3:latest");
        let ours = MessagesError::from_provider(error, "ollama/llama3");
        assert_eq!(ours.status, StatusCode::NOT_FOUND);
        assert_eq!(ours.error_type, "not_found_error");
        assert_eq!(ours.message, "Model 'ollama/llama3' not found");
    }

    #[test]
    fn an_upstream_rate_limit_keeps_its_retry_after() {
        let error = ProviderError::rate_limited(Some(Duration::from_secs(7)));
        let ours = MessagesError::from_provider(error, "sonnet");
        assert_eq!(ours.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(ours.error_type, "rate_limit_error");
        assert_eq!(ours.retry_after, Some(Duration::from_secs(7)));
    }
}
