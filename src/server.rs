//! Start-up, the HTTP server, and graceful shutdown.
//!
//! [`build_state`] opens the store and the vault and starts the providers; [`run`] serves the API
//! on a listener the caller bound (so tests can bind port 0), prints one `moxxy listening on …`
//! line to stdout once ready, and on SIGTERM/Ctrl-C stops accepting, lets requests in flight
//! finish within `server.shutdown_grace_s` (then ends them with an error, see
//! [`crate::shutdown`]), and flushes the store before returning.

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Actor;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use moxxy_actors::supervisor::ProviderSupervisor;

use crate::api::{self, metrics::Metrics, AppState};
use crate::config::Config;
use crate::directory::Directory;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::vault::{KeySource, MasterKey, Vault};

/// Why the server could not start. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the data directory could not be opened: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("the vault could not be opened: {0}")]
    Vault(#[from] crate::vault::VaultError),
    #[error("could not listen on {addr}: {source} - is another server using it? Set MOXXY_BIND or server.bind")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the providers could not start: {0}")]
    Providers(String),
    #[error("the agents could not start: {0}")]
    Agents(String),
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
}

/// Opens the store and vault, starts the supervisor and every provider.
pub async fn build_state(config: Config, env: api::EnvReader) -> Result<AppState, StartError> {
    let store = Store::open(&config.storage.path)?;
    let (key, source) = MasterKey::load(&config.storage.path, env("MOXXY_MASTER_KEY").as_deref())?;
    if matches!(source, KeySource::Generated(_)) {
        tracing::warn!(
            path = %config.storage.path.join("master.key").display(),
            "generated a new vault master key; back it up, or set MOXXY_MASTER_KEY - without it the vault cannot be read"
        );
    }
    let vault = Vault::new(key, store.clone());
    vault.check()?;
    let shutdown = Shutdown::new(Duration::from_secs(config.server.shutdown_grace_s));
    let state = AppState {
        config: Arc::new(config),
        store,
        vault,
        supervisor: ProviderSupervisor::new().start(),
        directory: Directory::new(),
        model_lists: crate::model_lists::ModelLists::new(),
        agents: crate::agents::Agents::new(),
        metrics: Metrics::new(),
        env,
        started_at: Instant::now(),
        shutdown,
    };
    crate::registry::start_all(&state)
        .await
        .map_err(|e| StartError::Providers(e.message))?;
    // Ollama's status and models are known before the first request (bounded by its timeout).
    crate::discovery::probe(&state).await;
    crate::agents::start_all(&state).map_err(StartError::Agents)?;
    Ok(state)
}

/// Binds the configured address.
pub fn bind(config: &Config) -> Result<TcpListener, StartError> {
    let addr = config.server.bind;
    TcpListener::bind(addr).map_err(|source| StartError::Bind { addr, source })
}

/// How long after the grace period the server still waits for connections before it drops
/// them: time for the error events written at the end of the grace period to reach clients
/// that read. A client that reads nothing is cut then.
const SHUTDOWN_MARGIN: Duration = Duration::from_secs(5);

/// Serves the API on `listener` until SIGTERM or Ctrl-C, then flushes the store.
pub async fn run(state: AppState, listener: TcpListener) -> Result<(), StartError> {
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let workers = state
        .config
        .server
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let body_limit = state.config.server.body_limit_bytes;
    let store = state.store.clone();
    let shutdown = state.shutdown.clone();
    let drop_after = shutdown.grace().saturating_add(SHUTDOWN_MARGIN);
    let discovery = crate::discovery::start(state.clone());
    let data = web::Data::new(state);
    let token_cache = web::Data::new(crate::auth::TokenCache::new());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(token_cache.clone())
            .app_data(web::PayloadConfig::new(body_limit))
            .wrap(from_fn(api::middleware::request_context))
            .configure(api::configure)
    })
    .workers(workers)
    // Without it a streamed chunk waits behind the client's delayed ACK (Nagle): up to 40 ms.
    .tcp_nodelay(true)
    // Signals are ours (below), so they are handled before the ready line is printed.
    .disable_signals()
    // A client that leaves while nothing is being written (an upstream still thinking, any
    // non-streamed request) must cancel its upstream request at once, not at the next write.
    .h1_allow_half_closed(false)
    // Requests in flight end by themselves within the grace period (crate::shutdown); this is
    // the backstop for connections that still hold on.
    .shutdown_timeout(drop_after.as_secs())
    .listen(listener)
    .map_err(StartError::Serve)?
    .run();
    let handle = server.handle();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(StartError::Serve)?;
    actix_web::rt::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM: finishing requests in flight"),
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: finishing requests in flight"),
        }
        // First, so that no request slips in between the listener closing and the refusal.
        shutdown.begin();
        handle.stop(true).await;
    });
    tracing::info!(%addr, workers, "moxxy is serving");
    println!("moxxy listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let result = server.await.map_err(StartError::Serve);
    discovery.stop();
    if let Err(e) = store.flush() {
        tracing::error!(error = %e, "the store could not be flushed at shutdown");
    }
    tracing::info!("moxxy stopped");
    result
}
