//! The one JSON error of the REST API.
//!
//! Every error, on every route, renders as
//! `{"error": {"type", "code", "message", "param", "provider", "request_id"}}` with the status that
//! fits, and `Retry-After` on 429. Internal causes go to the log; the client gets a message that
//! says what to fix, and a 500 says nothing about internals.

use std::time::Duration;

use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use moxxy_actors::{ErrorKind, ProviderError};
use serde_json::json;

use crate::store::{NoRoom, OutOfSpace};

tokio::task_local! {
    /// The id of the request being served, set by the request-id middleware so every error body
    /// can carry the same id as the `x-request-id` header.
    pub static REQUEST_ID: String;
}

/// The current request's id, or an empty string outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// The message of a write refused because the disk under the data directory is full
/// (API.md, *Errors*).
pub const STORAGE_FULL: &str = "The data directory is full - free space on its disk and retry";
/// The same when the store ran out of space mid-write and takes no writes until a restart.
pub const STORAGE_FULL_RESTART: &str =
    "The data directory filled up during a write - free space on its disk, then restart moxxy";

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    /// `invalid_request_error`, `authentication_error`, `rate_limit_error`, …
    pub error_type: &'static str,
    /// A machine-readable code: `rate_limit_exceeded`, `model_not_found`, …
    pub code: Option<String>,
    pub message: String,
    /// The request field at fault, when one is.
    pub param: Option<String>,
    /// The provider involved, when an upstream was.
    pub provider: Option<String>,
    /// Sent as `Retry-After` (whole seconds, rounded up).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_type,
            code: None,
            message: message.into(),
            param: None,
            provider: None,
            retry_after: None,
        }
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// 400: the request is wrong; `message` says what to fix.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
            .with_code("invalid_request")
    }

    /// 422: the request parsed but a field holds a value that cannot be used.
    pub fn unprocessable(param: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request_error",
            message,
        )
        .with_code("invalid_value")
        .with_param(param)
    }

    /// 401 `Missing or invalid API token`, word for word as documented.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "Missing or invalid API token",
        )
        .with_code("invalid_token")
    }

    /// 403: the token lacks the scope the route needs.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", message)
            .with_code("insufficient_scope")
    }

    /// 404 with a message naming what was not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found_error", message).with_code("not_found")
    }

    /// 409: the request conflicts with what exists.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict_error", message).with_code("conflict")
    }

    /// 413: the body is over the limit.
    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!("The request body is larger than the limit of {limit_bytes} bytes"),
        )
        .with_code("request_too_large")
    }

    /// 500. The cause goes to the log, never to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, request_id = %current_request_id(), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "Internal error - the server log has the details",
        )
        .with_code("internal_error")
    }

    /// 507: the disk under the data directory is full, so nothing was written. Reads go on
    /// working; writes work again once space is freed — after a restart too when the store
    /// itself ran out of space ([`NoRoom::FreeSpaceAndRestart`]).
    pub fn storage_full(no_room: NoRoom) -> Self {
        tracing::error!(
            request_id = %current_request_id(),
            "a write was refused: the disk under the data directory is full"
        );
        let message = match no_room {
            NoRoom::FreeSpace => STORAGE_FULL,
            NoRoom::FreeSpaceAndRestart => STORAGE_FULL_RESTART,
        };
        Self::new(StatusCode::INSUFFICIENT_STORAGE, "api_error", message).with_code("storage_full")
    }

    /// A failed write to the store: 507 when the disk is full, else 500 (the cause to the log).
    pub fn write_failed(cause: &impl OutOfSpace) -> Self {
        match cause.no_room() {
            Some(no_room) => Self::storage_full(no_room),
            None => Self::internal(cause),
        }
    }

    /// 503: the server cannot take this now (store closed, queue full).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded_error", message)
            .with_code("service_unavailable")
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {
            "type": self.error_type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "provider": self.provider,
            "request_id": current_request_id(),
        }})
    }
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        let (status, error_type, code) = match e.kind {
            ErrorKind::InvalidRequest => (
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "invalid_request",
            ),
            ErrorKind::Authentication => (
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "invalid_api_key",
            ),
            ErrorKind::NoCredentials => (
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "no_api_key",
            ),
            ErrorKind::Permission => (
                StatusCode::FORBIDDEN,
                "permission_error",
                "permission_denied",
            ),
            ErrorKind::Billing => (
                StatusCode::PAYMENT_REQUIRED,
                "billing_error",
                "insufficient_quota",
            ),
            ErrorKind::ModelNotFound => {
                (StatusCode::NOT_FOUND, "not_found_error", "model_not_found")
            }
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found_error", "not_found"),
            ErrorKind::RequestTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "request_too_large",
            ),
            ErrorKind::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "rate_limit_exceeded",
            ),
            ErrorKind::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded_error",
                "upstream_overloaded",
            ),
            ErrorKind::CircuitOpen => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded_error",
                "circuit_open",
            ),
            ErrorKind::Unavailable | ErrorKind::Cancelled => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded_error",
                "service_unavailable",
            ),
            ErrorKind::Upstream => (StatusCode::BAD_GATEWAY, "api_error", "upstream_error"),
            ErrorKind::Unreachable => {
                (StatusCode::BAD_GATEWAY, "api_error", "upstream_unreachable")
            }
            ErrorKind::Timeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "timeout_error",
                "upstream_timeout",
            ),
        };
        let mut error = ApiError::new(status, error_type, e.message).with_code(code);
        error.param = e.param;
        error.provider = e.provider;
        // A 429 always says when to come back; without a hint, a short default.
        error.retry_after = match e.kind {
            ErrorKind::RateLimited => Some(e.retry_after.unwrap_or(Duration::from_secs(1))),
            _ => e.retry_after,
        };
        error
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status).json(self.body());
        if let Some(after) = self.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        response
    }
}
