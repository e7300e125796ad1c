//! The provider actor: one per provider, the only thing that talks to its upstream.
//!
//! The actor owns the provider's [`ProviderCore`] (client, limiter, cool-down, circuit) and answers
//! typed messages by handing back a future or a stream that does the HTTP I/O where the caller
//! polls it. The actor itself never awaits I/O, so one slow upstream request never holds up the
//! next, and throughput grows with the cores that poll.
//!
//! Replacing a provider's configuration swaps the core inside the same actor: callers keep their
//! cached address, requests in flight finish on the core they started with.

use std::sync::Arc;

use actix::prelude::*;
use futures_util::future::BoxFuture;

use super::config::{Credentials, ProviderConfig};
use super::core::{ProviderCore, UpstreamMeta};
use super::probe::OllamaProbe;
use super::stream::EventStream;
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{ChatRequest, ChatResponse};
use crate::retry::CircuitState;

/// The future a [`Complete`] message hands back.
pub type CompletionFuture = BoxFuture<'static, Result<(ChatResponse, UpstreamMeta), ProviderError>>;

/// The future a [`CompleteStream`] message hands back: it resolves once the stream has started.
pub type StreamFuture = BoxFuture<'static, Result<(EventStream, UpstreamMeta), ProviderError>>;

/// A non-streamed completion. The answer is a future to await where the caller runs.
#[derive(Debug, Message)]
#[rtype(result = "CompletionFuture")]
pub struct Complete(pub ChatRequest);

/// A streamed completion. The answer is a future of the event stream.
#[derive(Debug, Message)]
#[rtype(result = "StreamFuture")]
pub struct CompleteStream(pub ChatRequest);

/// The future a [`ProbeOllama`] message hands back.
pub type ProbeFuture = BoxFuture<'static, Result<OllamaProbe, ProviderError>>;

/// Ask Ollama for its version and pulled models (`/api/version`, `/api/tags`), each request
/// bounded by the given time; the answer also sets whether the provider is reachable. Sent by the
/// server's discovery loop, so the actor stays the only thing that talks to the upstream.
#[derive(Debug, Message)]
#[rtype(result = "ProbeFuture")]
pub struct ProbeOllama {
    pub timeout: std::time::Duration,
}

/// The current core, for callers that make many requests and want no mailbox round trip each.
#[derive(Debug, Message)]
#[rtype(result = "Result<Arc<ProviderCore>, ProviderError>")]
pub struct GetCore;

/// Replace the configuration (new key, models, address, limits): the next request uses it.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), ProviderError>")]
pub struct Reconfigure(pub ProviderConfig);

/// The provider was removed: from now on every request gets an error saying so.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Retire;

/// Stop and restart the actor with fresh state (a new client, limiter, cool-down and circuit).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Restart;

/// The provider's state as the API shows it.
#[derive(Debug, Message)]
#[rtype(result = "ProviderStatus")]
pub struct GetStatus;

/// What `status.state` of a provider says (API.md, *Providers*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderState {
    Ready,
    NoCredentials,
    /// The upstream said not before this many seconds from now.
    CoolingDown {
        retry_in: std::time::Duration,
    },
    CircuitOpen {
        retry_in: std::time::Duration,
    },
    /// The last attempt could not connect (for Ollama: not running at its address).
    Unreachable,
    /// The OAuth session could not be refreshed; `reason` is the token endpoint's (never a token).
    AuthFailed {
        reason: String,
    },
    Retired,
}

/// The answer to [`GetStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatus {
    pub id: String,
    pub state: ProviderState,
    /// How many times the actor was restarted.
    pub restarts: u32,
}

/// The actor. Start it under [`actix::Supervisor`] (the supervisor does) so it is restarted when
/// it stops.
pub struct ProviderActor {
    core: Arc<ProviderCore>,
    retired: bool,
    restarts: u32,
}

impl ProviderActor {
    pub fn new(config: ProviderConfig) -> Result<Self, ProviderError> {
        Ok(ProviderActor {
            core: Arc::new(ProviderCore::new(config)?),
            retired: false,
            restarts: 0,
        })
    }

    pub(super) fn core(&self) -> Result<Arc<ProviderCore>, ProviderError> {
        if self.retired {
            let id = &self.core.config().id;
            return Err(ProviderError::new(
                ErrorKind::Unavailable,
                format!("Provider '{id}' was removed"),
            )
            .with_provider(id));
        }
        Ok(Arc::clone(&self.core))
    }
}

impl Actor for ProviderActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // A burst of callers should queue in the mailbox, not be refused.
        ctx.set_mailbox_capacity(4096);
        tracing::debug!(provider = %self.core.config().id, "provider actor started");
    }
}

impl Supervised for ProviderActor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.restarts += 1;
        match ProviderCore::new(self.core.config().clone()) {
            Ok(core) => {
                self.core.supersede();
                self.core = Arc::new(core);
            }
            Err(e) => tracing::warn!(provider = %self.core.config().id, error = %e,
                "restarted with the previous state: a fresh core could not be built"),
        }
        tracing::info!(provider = %self.core.config().id, restarts = self.restarts,
            "provider actor restarted");
    }
}

impl Handler<Complete> for ProviderActor {
    type Result = MessageResult<Complete>;

    fn handle(&mut self, msg: Complete, _: &mut Self::Context) -> Self::Result {
        MessageResult(match self.core() {
            Ok(core) => Box::pin(core.complete(msg.0)) as CompletionFuture,
            Err(e) => Box::pin(async move { Err(e) }),
        })
    }
}

impl Handler<CompleteStream> for ProviderActor {
    type Result = MessageResult<CompleteStream>;

    fn handle(&mut self, msg: CompleteStream, _: &mut Self::Context) -> Self::Result {
        MessageResult(match self.core() {
            Ok(core) => Box::pin(core.stream(msg.0)) as StreamFuture,
            Err(e) => Box::pin(async move { Err(e) }),
        })
    }
}

impl Handler<ProbeOllama> for ProviderActor {
    type Result = MessageResult<ProbeOllama>;

    fn handle(&mut self, msg: ProbeOllama, _: &mut Self::Context) -> Self::Result {
        MessageResult(match self.core() {
            Ok(core) => Box::pin(core.probe_ollama(msg.timeout)) as ProbeFuture,
            Err(e) => Box::pin(async move { Err(e) }),
        })
    }
}

impl Handler<GetCore> for ProviderActor {
    type Result = Result<Arc<ProviderCore>, ProviderError>;

    fn handle(&mut self, _: GetCore, _: &mut Self::Context) -> Self::Result {
        self.core()
    }
}

impl Handler<Reconfigure> for ProviderActor {
    type Result = Result<(), ProviderError>;

    fn handle(&mut self, msg: Reconfigure, _: &mut Self::Context) -> Self::Result {
        let core = Arc::new(ProviderCore::new(msg.0)?);
        self.core.supersede();
        self.core = core;
        self.retired = false;
        Ok(())
    }
}

impl Handler<Retire> for ProviderActor {
    type Result = ();

    fn handle(&mut self, _: Retire, _: &mut Self::Context) {
        self.retired = true;
        self.core.supersede();
    }
}

impl Handler<Restart> for ProviderActor {
    type Result = ();

    fn handle(&mut self, _: Restart, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<GetStatus> for ProviderActor {
    type Result = MessageResult<GetStatus>;

    fn handle(&mut self, _: GetStatus, _: &mut Self::Context) -> Self::Result {
        let core = &self.core;
        let config = core.config();
        let now = std::time::Instant::now();
        let state = if self.retired {
            ProviderState::Retired
        } else if config.needs_credentials() && config.credentials == Credentials::None {
            ProviderState::NoCredentials
        } else if let Some(reason) = config.credentials.auth_failure() {
            ProviderState::AuthFailed { reason }
        } else if !core.is_reachable() {
            ProviderState::Unreachable
        } else if let CircuitState::Open { until } = core.circuit_state() {
            ProviderState::CircuitOpen {
                retry_in: until.saturating_duration_since(now),
            }
        } else if let Some(until) = core.cooling_down_until() {
            ProviderState::CoolingDown {
                retry_in: until.saturating_duration_since(now),
            }
        } else {
            ProviderState::Ready
        };
        MessageResult(ProviderStatus {
            id: config.id.clone(),
            state,
            restarts: self.restarts,
        })
    }
}
