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
pub mod method;
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

/// Mounts every route of the API. Each path is one resource that names its methods, so a wrong
/// method gets 405 with `Allow` (see [`method`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    use self::method::resource;
    cfg.service(resource("/healthz", &["GET"]).route(web::get().to(ops::healthz)))
        .service(resource("/readyz", &["GET"]).route(web::get().to(ops::readyz)))
        .service(resource("/metrics", &["GET"]).route(web::get().to(ops::metrics)))
        .service(
            web::scope("/v1")
                .service(
                    resource("/tokens", &["GET", "POST"])
                        .route(web::get().to(tokens::list))
                        .route(web::post().to(tokens::create)),
                )
                .service(
                    resource("/tokens/{id}", &["DELETE"]).route(web::delete().to(tokens::revoke)),
                )
                .service(
                    resource("/providers", &["GET", "POST"])
                        .route(web::get().to(providers::list))
                        .route(web::post().to(providers::create)),
                )
                .service(
                    resource("/providers/anthropic/oauth", &["PUT", "DELETE"])
                        .route(web::put().to(oauth::put))
                        .route(web::delete().to(oauth::delete)),
                )
                .service(
                    resource("/providers/{id}", &["GET", "PATCH", "DELETE"])
                        .route(web::get().to(providers::get))
                        .route(web::patch().to(providers::patch))
                        .route(web::delete().to(providers::delete)),
                )
                .service(
                    resource("/providers/{id}/models", &["GET"])
                        .route(web::get().to(models::provider_models)),
                )
                .service(resource("/models", &["GET"]).route(web::get().to(models::list_models)))
                .service(
                    resource("/chat/completions", &["POST"])
                        .route(web::post().to(chat::chat_completions)),
                )
                .service(resource("/messages", &["POST"]).route(web::post().to(messages::messages)))
                .service(
                    resource("/agents", &["GET", "POST"])
                        .route(web::get().to(agents::list))
                        .route(web::post().to(agents::create)),
                )
                .service(
                    resource("/agents/{name}", &["GET", "PATCH", "DELETE"])
                        .route(web::get().to(agents::get))
                        .route(web::patch().to(agents::patch))
                        .route(web::delete().to(agents::delete)),
                )
                .service(
                    resource("/agents/{name}/messages", &["POST"])
                        .route(web::post().to(agents::turn::post)),
                )
                .service(
                    resource("/agents/{name}/conversations", &["GET"])
                        .route(web::get().to(agents::list_conversations)),
                )
                .service(
                    resource("/agents/{name}/conversations/{id}", &["GET", "DELETE"])
                        .route(web::get().to(agents::get_conversation))
                        .route(web::delete().to(agents::delete_conversation)),
                )
                .service(resource("/vault", &["GET"]).route(web::get().to(vault::list)))
                .service(
                    resource("/vault/{name}", &["PUT", "DELETE"])
                        .route(web::put().to(vault::put))
                        .route(web::delete().to(vault::delete)),
                ),
        );
}
