//! Ollama auto-discovery: with no configuration, Moxxy asks Ollama (`OLLAMA_HOST`, else
//! `127.0.0.1:11434`) whether it is up and which models are pulled — once at start, then every
//! `providers.ollama.discovery_interval_s` seconds — so a model pulled while Moxxy runs is listed
//! and routable without a restart, and the provider's status says `ready` or `unreachable`.
//!
//! The requests themselves are made by the provider actor ([`ProbeOllama`]), with its own client
//! and base URL, so the actor stays the only thing that talks to the upstream (DESIGN.md). This
//! module only decides when to ask and where the answer goes: the actor's reachable flag (set by
//! the probe) and the directory's model list.

use std::time::Duration;

use moxxy_actors::provider::{OllamaProbe, ProbeOllama};

use crate::api::AppState;

/// The provider id discovery looks after.
const OLLAMA: &str = "ollama";

/// How long one probe request may take in all. Not an LLM request: a running Ollama answers
/// `/api/version` in milliseconds, so a slow answer means it is not usable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Asks Ollama once and applies the answer: the status (through the actor) and, unless a model
/// list was configured, the pulled models. Returns what it learned, `None` when Ollama could
/// not be reached or the provider is gone.
pub async fn probe(state: &AppState) -> Option<OllamaProbe> {
    let entry = state.directory.get(OLLAMA)?;
    let answer = match entry
        .addr
        .send(ProbeOllama {
            timeout: PROBE_TIMEOUT,
        })
        .await
    {
        Ok(future) => future.await,
        Err(_) => return None,
    };
    match answer {
        Ok(found) => {
            if let Some(models) = found.models.as_ref().filter(|_| discovers_models(state)) {
                if *models != entry.models {
                    tracing::info!(models = ?models, "Ollama's pulled models changed");
                    state.directory.set_models(OLLAMA, models.clone());
                }
            }
            Some(found)
        }
        Err(e) => {
            tracing::debug!(error = %e, "Ollama did not answer the discovery probe");
            None
        }
    }
}

/// Whether the pulled models are Ollama's model list: not when config.toml or a PATCH of the
/// provider set one explicitly.
fn discovers_models(state: &AppState) -> bool {
    if state.config.providers.ollama.models.is_some() {
        return false;
    }
    match state.store.providers().get(OLLAMA) {
        Ok(record) => record.is_none_or(|r| r.models.is_empty()),
        Err(e) => {
            tracing::warn!(error = %e, "the ollama provider record could not be read");
            false
        }
    }
}

/// The background loop: probes every `discovery_interval_s` seconds (none when 0). Returns a
/// handle that stops the loop when dropped or [`stop`](Discovery::stop)ped, so nothing outlives
/// the server. Must be called inside the server's actix system.
pub fn start(state: AppState) -> Discovery {
    let every = state.config.providers.ollama.discovery_interval_s;
    if every == 0 {
        return Discovery { task: None };
    }
    let task = actix_web::rt::spawn(async move {
        let period = Duration::from_secs(every);
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        // A probe that took long (an address that drops packets) is not followed by a burst.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was_up = None;
        loop {
            ticks.tick().await;
            let up = probe(&state).await.is_some();
            if was_up != Some(up) && was_up.is_some() {
                let base_url = &state.config.providers.ollama.base_url;
                if up {
                    tracing::info!(%base_url, "Ollama is reachable again");
                } else {
                    tracing::warn!(%base_url, "Ollama is not reachable");
                }
            }
            was_up = Some(up);
        }
    });
    Discovery { task: Some(task) }
}

/// The running discovery loop; dropping it stops the loop.
#[derive(Debug)]
pub struct Discovery {
    task: Option<actix_web::rt::task::JoinHandle<()>>,
}

impl Discovery {
    /// Stops the loop (at shutdown).
    pub fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for Discovery {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
