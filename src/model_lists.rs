//! The live model lists of the built-in providers, cached for a few minutes.
//!
//! `GET /v1/providers/{id}/models` asks Anthropic's and OpenAI's `/v1/models` through the
//! provider actor (the engine does all upstream I/O). Upstreams change their lists rarely and a
//! listing UI may ask often, so an answer is kept for [`MODEL_LIST_TTL_SECS`] per provider. A
//! cached answer belongs to the provider's configuration it was fetched with: a new key or
//! address (a PATCH swaps the actor's core) makes it stale at once. Concurrent callers of one
//! provider wait on a single upstream request rather than each starting their own. Failures are
//! not cached: the caller falls back to its static list, and the next call asks again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use actix::Addr;
use moxxy_actors::provider::actor::GetCore;
use moxxy_actors::provider::{self, ProviderActor, ProviderCore};
use moxxy_actors::{ErrorKind, ProviderError};

/// How long a live list is served from the cache before the upstream is asked again.
pub const MODEL_LIST_TTL_SECS: u64 = 300;

/// The cached live lists, by provider id. Cheap to clone: clones share the cache.
#[derive(Clone)]
pub struct ModelLists {
    slots: Arc<Mutex<HashMap<String, Arc<Slot>>>>,
    ttl: Duration,
}

/// One provider's cache. The async lock is held while its upstream is asked, which is what makes
/// concurrent callers share one request.
#[derive(Default)]
struct Slot {
    cached: tokio::sync::Mutex<Option<Cached>>,
}

/// One answer and what it is valid for.
struct Cached {
    models: Arc<Vec<String>>,
    fetched_at: Instant,
    /// The provider core (configuration) that answered; a different one means a stale answer.
    core: Weak<ProviderCore>,
}

impl Default for ModelLists {
    fn default() -> Self {
        Self::with_ttl(Duration::from_secs(MODEL_LIST_TTL_SECS))
    }
}

impl std::fmt::Debug for ModelLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelLists")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl ModelLists {
    /// A cache keeping answers for [`MODEL_LIST_TTL_SECS`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache keeping answers for `ttl` (tests use a short one to see an answer expire).
    pub fn with_ttl(ttl: Duration) -> Self {
        ModelLists {
            slots: Arc::default(),
            ttl,
        }
    }

    /// The upstream's list for provider `id`: the cached answer while it is fresh and the
    /// provider's configuration unchanged, else a new one asked through `addr` (and cached).
    /// With `force`, the upstream is asked whatever the cache holds.
    pub async fn live(
        &self,
        id: &str,
        addr: &Addr<ProviderActor>,
        force: bool,
    ) -> Result<Arc<Vec<String>>, ProviderError> {
        let core = addr
            .send(GetCore)
            .await
            .map_err(|_| gone(id))?
            .map_err(|e| e.with_provider(id))?;
        let slot = self.slot(id);
        let mut cached = slot.cached.lock().await;
        if let Some(hit) = cached.as_ref().filter(|c| !force && self.fresh(c, &core)) {
            return Ok(Arc::clone(&hit.models));
        }
        let models = Arc::new(provider::list_models(addr).await?);
        *cached = Some(Cached {
            models: Arc::clone(&models),
            fetched_at: Instant::now(),
            core: Arc::downgrade(&core),
        });
        Ok(models)
    }

    fn fresh(&self, cached: &Cached, core: &Arc<ProviderCore>) -> bool {
        cached.fetched_at.elapsed() < self.ttl && Weak::ptr_eq(&cached.core, &Arc::downgrade(core))
    }

    fn slot(&self, id: &str) -> Arc<Slot> {
        Arc::clone(self.lock().entry(id.to_string()).or_default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        // Held only to find a slot, never across an await: a poisoned map is still whole.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn gone(id: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Unavailable,
        format!("Provider '{id}' stopped before it could list its models - try again"),
    )
    .with_provider(id)
}
