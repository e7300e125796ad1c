//! The REST API: actix-web routes, one module per resource, one JSON error type.

pub mod chat;
pub mod error;
pub mod models;

use std::sync::Arc;
use std::time::Instant;

use actix::Addr;
use moxxy_actors::supervisor::ProviderSupervisor;

pub use self::error::ApiError;
use crate::config::Config;
use crate::directory::Directory;
use crate::store::Store;
use crate::vault::Vault;

/// What every handler shares. Cheap to clone: everything inside is a handle.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub vault: Vault,
    pub supervisor: Addr<ProviderSupervisor>,
    pub directory: Directory,
    pub started_at: Instant,
}
