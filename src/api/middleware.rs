//! The middleware every request passes: its id, its metrics, and the error shape.

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};

use super::completion::overhead::Arrival;
use super::error::{ApiError, REQUEST_ID};
use super::messages::MessagesError;
use super::metrics::{RequestLabels, RouteLabels};
use super::AppState;
use super::{body_timeout, draining};
use crate::shutdown::SHUTTING_DOWN;

/// Gives the request an id (`req_` + 24 hex), runs it with that id in scope (so error bodies carry
/// it), sets `x-request-id`, records metrics, refuses a body that says it is not JSON (415),
/// bounds the time its body may take ([`body_timeout`]), refuses it while the server stops and
/// answers it with 503 if the shutdown grace period ends first ([`draining`]), and renders any
/// non-JSON error response (unknown route, wrong method, a framework-level refusal) as the API's
/// JSON error.
pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = new_request_id();
    let started = Instant::now();
    // The completion handlers measure their overhead from here.
    req.extensions_mut().insert(Arrival(started));
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let anthropic = req.path() == MESSAGES_ROUTE;
    let render = move |error: ApiError| {
        if anthropic {
            MessagesError::from(error).error_response()
        } else {
            error.error_response()
        }
    };
    let stopping = state.as_ref().is_some_and(|s| s.shutdown.is_started());
    let refusal = if stopping {
        Some(draining::shutting_down())
    } else {
        unsupported_media_type(&req)
    };
    let response = match (refusal, &state) {
        (Some(error), _) => {
            let mut rendered = REQUEST_ID.sync_scope(id.clone(), || render(error));
            if stopping {
                rendered = draining::closing(rendered);
            }
            req.into_response(rendered)
        }
        (None, Some(state)) => {
            let timeout = Duration::from_secs(state.config.server.body_timeout_s);
            body_timeout::limit(&mut req, timeout);
            let call = draining::until_cut(next.call(req), state.shutdown.cut());
            match REQUEST_ID.scope(id.clone(), call).await {
                Some(response) => response?.map_into_boxed_body(),
                None => {
                    // The handler is gone, and with it the request: the answer leaves as an
                    // error response, which actix writes as it is.
                    let error = draining::shutting_down();
                    let mut rendered = REQUEST_ID.sync_scope(id.clone(), || render(error));
                    rendered = draining::closing(rendered);
                    set_request_id(rendered.headers_mut(), &id);
                    let status = rendered.status();
                    record(state, method, CUT_ROUTE.to_string(), status, started);
                    return Err(InternalError::from_response(SHUTTING_DOWN, rendered).into());
                }
            }
        }
        (None, None) => REQUEST_ID
            .scope(id.clone(), next.call(req))
            .await?
            .map_into_boxed_body(),
    };
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = response.status();
    let mut response = if (status.is_client_error() || status.is_server_error())
        && !is_json(response.headers().get(CONTENT_TYPE))
    {
        let limit = state.as_ref().map(|s| s.config.server.body_limit_bytes);
        let error = REQUEST_ID.sync_scope(id.clone(), || {
            framework_error(status, limit).error_response()
        });
        let (req, _) = response.into_parts();
        ServiceResponse::new(req, error)
    } else {
        response
    };
    set_request_id(response.headers_mut(), &id);
    if let Some(state) = &state {
        record(state, method, route, status, started);
    }
    Ok(response)
}

/// The route label of requests the shutdown grace period ended before they were answered.
const CUT_ROUTE: &str = "cut_by_shutdown";

/// `x-request-id: ID`.
fn set_request_id(headers: &mut HeaderMap, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
}

/// Counts the request and its latency in the metrics.
fn record(state: &AppState, method: String, route: String, status: StatusCode, started: Instant) {
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

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The route whose errors are in Anthropic's shape.
const MESSAGES_ROUTE: &str = "/v1/messages";

/// A 415 for a request with a body whose `Content-Type` says it is something other than JSON
/// (`text/plain`, a form, XML). Every body of the API is JSON; a client that labels it otherwise
/// is confused (a form post, `curl -d` without `-H 'content-type: application/json'`), and
/// guessing would hide that. Requests without a `Content-Type` are read as JSON.
fn unsupported_media_type(req: &ServiceRequest) -> Option<ApiError> {
    use actix_web::http::Method;
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
        return None;
    }
    let value = req.headers().get(CONTENT_TYPE)?;
    let essence = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence
        .as_deref()
        .is_some_and(|e| e == "application/json" || e.ends_with("+json"))
    {
        return None;
    }
    let shown: String = String::from_utf8_lossy(value.as_bytes())
        .chars()
        .take(64)
        .flat_map(char::escape_default)
        .collect();
    Some(
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            format!(
                "Content-Type '{shown}' is not supported - send the body as JSON with \
                 Content-Type: application/json"
            ),
        )
        .with_code("unsupported_media_type"),
    )
}

/// The JSON error for a status the framework produced on its own; `body_limit` is the
/// server's, for a body the framework refused as too large.
fn framework_error(status: StatusCode, body_limit: Option<usize>) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found("No such route - see API.md for the routes"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "invalid_request_error",
            "This route does not take that method",
        )
        .with_code("method_not_allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => match body_limit {
            Some(limit) => ApiError::payload_too_large(limit),
            None => ApiError::new(
                status,
                "invalid_request_error",
                "The request body is too large",
            )
            .with_code("request_too_large"),
        },
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
