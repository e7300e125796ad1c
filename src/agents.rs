//! The running agents: their actors, where each was defined, and how their models are routed.
//!
//! Agents come from two places. `[[personas]]` in config.toml start at boot and are read-only
//! through the API (the file is their record); agents created with `POST /v1/agents` are stored
//! and restarted at boot. Each runs as an [`AgentActor`] whose conversations live in the store's
//! conversations tree, reached through the engine's `ConversationStore` trait.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use actix::{Actor, Addr};
use moxxy_actors::agent::{AgentActor, ModelRouter, Persona, Route};
use moxxy_actors::{ErrorKind, ProviderError};

use crate::api::AppState;
use crate::config::PersonaConfig;
use crate::directory::Directory;

/// Where an agent was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentSource {
    /// `[[personas]]` in config.toml: changed only there.
    Config,
    /// `POST /v1/agents`: stored, changed through the API.
    Api,
}

impl AgentSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentSource::Config => "config",
            AgentSource::Api => "api",
        }
    }
}

/// One running agent.
#[derive(Debug, Clone)]
pub struct AgentEntry {
    pub addr: Addr<AgentActor>,
    pub source: AgentSource,
}

/// Every running agent, by name.
#[derive(Debug, Clone, Default)]
pub struct Agents {
    inner: Arc<RwLock<BTreeMap<String, AgentEntry>>>,
}

impl Agents {
    pub fn new() -> Self {
        Self::default()
    }

    /// One agent.
    pub fn get(&self, name: &str) -> Option<AgentEntry> {
        self.read().get(name).cloned()
    }

    /// Every agent, by name.
    pub fn list(&self) -> Vec<(String, AgentEntry)> {
        self.read()
            .iter()
            .map(|(name, entry)| (name.clone(), entry.clone()))
            .collect()
    }

    /// Adds an agent unless the name is taken; answers whether it was added.
    pub fn insert_new(&self, name: &str, entry: AgentEntry) -> bool {
        let mut map = match self.inner.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.contains_key(name) {
            return false;
        }
        map.insert(name.to_string(), entry);
        true
    }

    /// Removes an agent; its actor stops once the last address is dropped.
    pub fn remove(&self, name: &str) -> Option<AgentEntry> {
        match self.inner.write() {
            Ok(mut guard) => guard.remove(name),
            Err(poisoned) => poisoned.into_inner().remove(name),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, AgentEntry>> {
        match self.inner.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Routes a persona's model the way the completion endpoints route a client's: aliases,
/// `PROVIDER/MODEL`, bare ids, against the providers running now.
pub struct Router {
    directory: Directory,
    aliases: Arc<BTreeMap<String, String>>,
}

impl Router {
    pub fn new(state: &AppState) -> Self {
        Router {
            directory: state.directory.clone(),
            aliases: Arc::new(state.config.aliases.clone()),
        }
    }
}

impl ModelRouter for Router {
    fn route(&self, model: &str) -> Result<Route, ProviderError> {
        let route = crate::routing::resolve(model, &self.directory.snapshot(), &self.aliases)
            .map_err(|e| {
                let kind = if e.status == actix_web::http::StatusCode::NOT_FOUND {
                    ErrorKind::ModelNotFound
                } else {
                    ErrorKind::InvalidRequest
                };
                ProviderError::new(kind, e.message)
            })?;
        Ok(Route {
            provider: route.provider,
            model: route.model,
            addr: route.addr,
        })
    }
}

/// Starts an agent's actor on the current arbiter.
pub fn spawn(state: &AppState, persona: Persona) -> Addr<AgentActor> {
    AgentActor::new(
        persona,
        Arc::new(state.store.conversations()),
        Arc::new(Router::new(state)),
        state.config.server.agent_queue_limit,
    )
    .start()
}

/// The persona of a `[[personas]]` entry.
pub fn persona_of(config: &PersonaConfig) -> Persona {
    Persona {
        name: config.name.clone(),
        model: config.model.clone(),
        system: config.system.clone(),
        temperature: config.temperature,
        max_tokens: config.max_tokens,
        stop: config.stop.clone().unwrap_or_default(),
        tools: Vec::new(),
    }
}

/// Starts every agent at boot: the config's personas, whose models must route (a persona that
/// names an unknown model or provider stops start-up, naming the persona), then the stored ones
/// (a stored agent whose model no longer routes still starts; its turns say why they fail).
pub fn start_all(state: &AppState) -> Result<(), String> {
    let router = Router::new(state);
    for config in &state.config.personas {
        if let Err(e) = router.route(&config.model) {
            return Err(format!(
                "persona '{}' in config.toml names model '{}', which cannot be used: {} - name a \
                 model a running provider offers (PROVIDER/MODEL, a model id or an alias) and \
                 restart",
                config.name, config.model, e.message
            ));
        }
        let addr = spawn(state, persona_of(config));
        state.agents.insert_new(
            &config.name,
            AgentEntry {
                addr,
                source: AgentSource::Config,
            },
        );
    }
    let stored = state
        .store
        .agents()
        .list()
        .map_err(|e| format!("the stored agents could not be read: {e}"))?;
    for record in stored {
        let name = record.persona.name.clone();
        if state.agents.get(&name).is_some() {
            tracing::warn!(agent = %name,
                "an agent created through the API has the name of a persona in config.toml; \
                 the config's persona is used - delete or rename one of them");
            continue;
        }
        if let Err(e) = router.route(&record.persona.model) {
            tracing::warn!(agent = %name, error = %e.message,
                "the agent's model cannot be used now; its turns will fail until it can");
        }
        let addr = spawn(state, record.persona);
        state.agents.insert_new(
            &name,
            AgentEntry {
                addr,
                source: AgentSource::Api,
            },
        );
    }
    Ok(())
}
