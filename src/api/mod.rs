//! The REST API: actix-web routes, one module per resource, one JSON error type.
//!
//! [`configure`] mounts every route; [`middleware::request_context`] gives each request its id
//! (`x-request-id`, echoed in error bodies), records metrics, and turns any error response that is
//! not already our JSON (an unknown route, a wrong method) into it.

pub mod agents;
pub mod body;
pub mod body_timeout;
pub mod chat;
pub mod completion;
pub mod draining;
pub mod error;
pub mod messages;
pub mod metrics;
pub mod middleware;
pub mod models;
pub mod oauth;
pub mod ops;
pub mod providers;
pub mod tokens;
pub mod vault;

use std::sync::Arc;
use std::time::Instant;

use actix::Addr;
use actix_web::web;
use moxxy_actors::supervisor::ProviderSupervisor;

pub use self::error::ApiError;
use crate::agents::Agents;
use crate::config::Config;
use crate::directory::Directory;
use crate::model_lists::ModelLists;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::vault::Vault;

/// Reads an environment variable: the process environment in production, a map in tests.
pub type EnvReader = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What every handler shares. Cheap to clone: everything inside is a handle.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub vault: Vault,
    pub supervisor: Addr<ProviderSupervisor>,
    pub directory: Directory,
    /// The built-ins' live model lists, cached (`GET /v1/providers/{id}/models`).
    pub model_lists: ModelLists,
    /// The running agents.
    pub agents: Agents,
    pub metrics: metrics::Metrics,
    /// Resolves api_key_env references (the process environment in production, a map in tests).
    pub env: EnvReader,
    pub started_at: Instant,
    /// SIGTERM as requests see it: refuse new ones, end those in flight after the grace period.
    pub shutdown: Shutdown,
}

/// Mounts every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .service(
            web::scope("/v1")
                .route("/tokens", web::post().to(tokens::create))
                .route("/tokens", web::get().to(tokens::list))
                .route("/tokens/{id}", web::delete().to(tokens::revoke))
                .route("/providers", web::get().to(providers::list))
                .route("/providers", web::post().to(providers::create))
                .route("/providers/anthropic/oauth", web::put().to(oauth::put))
                .route(
                    "/providers/anthropic/oauth",
                    web::delete().to(oauth::delete),
                )
                .route("/providers/{id}", web::get().to(providers::get))
                .route("/providers/{id}", web::patch().to(providers::patch))
                .route("/providers/{id}", web::delete().to(providers::delete))
                .route(
                    "/providers/{id}/models",
                    web::get().to(models::provider_models),
                )
                .route("/models", web::get().to(models::list_models))
                .route("/chat/completions", web::post().to(chat::chat_completions))
                .route("/messages", web::post().to(messages::messages))
                .route("/agents", web::get().to(agents::list))
                .route("/agents", web::post().to(agents::create))
                .route("/agents/{name}", web::get().to(agents::get))
                .route("/agents/{name}", web::patch().to(agents::patch))
                .route("/agents/{name}", web::delete().to(agents::delete))
                .route(
                    "/agents/{name}/messages",
                    web::post().to(agents::turn::post),
                )
                .route(
                    "/agents/{name}/conversations",
                    web::get().to(agents::list_conversations),
                )
                .route(
                    "/agents/{name}/conversations/{id}",
                    web::get().to(agents::get_conversation),
                )
                .route(
                    "/agents/{name}/conversations/{id}",
                    web::delete().to(agents::delete_conversation),
                )
                .route("/vault", web::get().to(vault::list))
                .route("/vault/{name}", web::put().to(vault::put))
                .route("/vault/{name}", web::delete().to(vault::delete)),
        );
}
