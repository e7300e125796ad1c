//! The middleware every request passes: its id, its metrics, and the error shape.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};

use super::completion::overhead::Arrival;
use super::error::{ApiError, REQUEST_ID};
use super::metrics::{RequestLabels, RouteLabels};
use super::AppState;

/// Gives the request an id (`req_` + 24 hex), runs it with that id in scope (so error bodies carry
/// it), sets `x-request-id`, records metrics, and renders any non-JSON error response (unknown
/// route, wrong method, a framework-level refusal) as the API's JSON error.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = new_request_id();
    let started = Instant::now();
    // The completion handlers measure their overhead from here.
    req.extensions_mut().insert(Arrival(started));
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let response = REQUEST_ID.scope(id.clone(), next.call(req)).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = response.status();
    let mut response = if (status.is_client_error() || status.is_server_error())
        && !is_json(response.headers().get(CONTENT_TYPE))
    {
        let error = REQUEST_ID.sync_scope(id.clone(), || framework_error(status).error_response());
        let (req, _) = response.into_parts();
        ServiceResponse::new(req, error)
    } else {
        response.map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            value,
        );
    }
    if let Some(state) = state {
        state
            .metrics
            .requests
            .get_or_create(&RequestLabels {
                method,
                route: route.clone(),
                status: status.as_u16(),
            })
            .inc();
        state
            .metrics
            .latency
            .get_or_create(&RouteLabels { route })
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(response)
}

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The JSON error for a status the framework produced on its own.
fn framework_error(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found("No such route - see API.md for the routes"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "invalid_request_error",
            "This route does not take that method",
        )
        .with_code("method_not_allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "invalid_request_error",
            "The request body is too large",
        )
        .with_code("request_too_large"),
        s if s.is_server_error() => ApiError::new(
            s,
            "api_error",
            "Internal error - the server log has the details",
        )
        .with_code("internal_error"),
        s => ApiError::new(s, "invalid_request_error", "The request was refused")
            .with_code("invalid_request"),
    }
}

/// `req_` + 24 lowercase hex characters.
pub fn new_request_id() -> String {
    let bytes: [u8; 12] = rand::random();
    format!("req_{}", hex::encode(bytes))
}
