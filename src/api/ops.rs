//! Operations: liveness, readiness and metrics.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;

/// `GET /healthz`: the process is up. No auth.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /readyz`: the store answers (and takes writes: not after it ran out of space, until a
/// restart) and the provider actors run. No auth.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store_ok = state.store.takes_writes() && state.store.providers().list().is_ok();
    let actors_ok = state
        .supervisor
        .send(moxxy_actors::supervisor::ListProviders)
        .await
        .is_ok_and(|ids| !ids.is_empty());
    let body = json!({
        "status": if store_ok && actors_ok { "ready" } else { "not_ready" },
        "store": store_ok,
        "actors": actors_ok,
        "uptime_s": state.started_at.elapsed().as_secs(),
    });
    if store_ok && actors_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `GET /metrics`: Prometheus text. Needs the `read` scope.
pub async fn metrics(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let text = state.metrics.render().map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
