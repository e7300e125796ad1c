//! The running providers as routing and the API see them: id, kind, models, the actor's address.
//!
//! The supervisor owns the actors; this directory is the server's read-mostly view of them, kept
//! in step by the code that registers, patches and removes providers. Reads take a snapshot
//! (`Arc` clone) so no lock is held while a request is served.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use actix::Addr;
use moxxy_actors::provider::{ProviderActor, ProviderKind};

/// One running provider.
#[derive(Debug, Clone)]
pub struct ProviderEntry {
    pub id: String,
    pub kind: ProviderKind,
    /// The models it offers: the registration's list for a custom provider, the built-in list for
    /// Anthropic and OpenAI, the pulled models for Ollama.
    pub models: Vec<String>,
    /// Whether a model outside `models` may still be asked for by `PROVIDER/MODEL` (the built-ins:
    /// their lists are a guide, the upstream decides).
    pub open_model_list: bool,
    pub addr: Addr<ProviderActor>,
}

/// All running providers, by id.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    inner: Arc<RwLock<Arc<BTreeMap<String, ProviderEntry>>>>,
}

impl Directory {
    pub fn new() -> Self {
        Self::default()
    }

    /// A consistent view of every provider, cheap to take.
    pub fn snapshot(&self) -> Arc<BTreeMap<String, ProviderEntry>> {
        match self.inner.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// One provider.
    pub fn get(&self, id: &str) -> Option<ProviderEntry> {
        self.snapshot().get(id).cloned()
    }

    /// Adds or replaces a provider.
    pub fn upsert(&self, entry: ProviderEntry) {
        self.update(|map| {
            map.insert(entry.id.clone(), entry);
        });
    }

    /// Removes a provider; answers whether it was there.
    pub fn remove(&self, id: &str) -> bool {
        let mut removed = false;
        self.update(|map| removed = map.remove(id).is_some());
        removed
    }

    /// Replaces a provider's model list (Ollama discovery, live lists).
    pub fn set_models(&self, id: &str, models: Vec<String>) {
        self.update(|map| {
            if let Some(entry) = map.get_mut(id) {
                entry.models = models;
            }
        });
    }

    fn update(&self, change: impl FnOnce(&mut BTreeMap<String, ProviderEntry>)) {
        let mut guard = match self.inner.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut map = (**guard).clone();
        change(&mut map);
        *guard = Arc::new(map);
    }
}
