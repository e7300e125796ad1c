//! A caller's shortcut to a provider's core: completions without a mailbox round trip each.
//!
//! Why: the provider actor runs on one thread (the actix system's), and every completion sent
//! as a message went there and back — two cross-thread wake-ups per request for a reply the
//! actor computes in nanoseconds (a clone of its `Arc<ProviderCore>`). Under load that hop was
//! the one thing all requests queued for, as DESIGN.md warns ("no actor round trip that
//! serializes requests").
//!
//! How: each thread keeps the cores it has used, fetched once with [`GetCore`]. The actor stays
//! the owner: when it replaces its core (a new configuration, a restart) or the provider is
//! retired, it marks the old core superseded ([`ProviderCore::supersede`]); a thread that finds
//! its cached core superseded, or the actor gone, asks the actor again. Requests in flight finish
//! on the core they started with, as before; a request that starts after the actor answered a
//! `Reconfigure` or `Retire` sees the mark and gets the new core or the "removed" error.

use std::cell::RefCell;
use std::sync::Arc;

use actix::{Addr, WeakAddr};

use super::actor::{GetCore, ProviderActor};
use super::core::ProviderCore;
use crate::error::ProviderError;

/// Cores a thread keeps at most; beyond, the least recently fetched is forgotten.
const PER_THREAD: usize = 64;

thread_local! {
    static CORES: RefCell<Vec<(WeakAddr<ProviderActor>, Arc<ProviderCore>)>> =
        const { RefCell::new(Vec::new()) };
}

/// The current core of `provider`, from this thread's cache or from the actor.
pub(super) async fn core(
    provider: &Addr<ProviderActor>,
) -> Result<Arc<ProviderCore>, ProviderError> {
    let weak = provider.downgrade();
    if let Some(core) = cached(&weak) {
        return Ok(core);
    }
    let core = provider
        .send(GetCore)
        .await
        .map_err(|_| super::actor_gone())??;
    remember(weak, &core);
    Ok(core)
}

/// The cached core of `provider`, unless it was superseded (then it is forgotten).
fn cached(provider: &WeakAddr<ProviderActor>) -> Option<Arc<ProviderCore>> {
    CORES.with_borrow_mut(|cores| {
        let at = cores.iter().position(|(addr, _)| addr == provider)?;
        let fresh = cores.get(at).is_some_and(|(_, core)| !core.is_superseded());
        if fresh {
            return cores.get(at).map(|(_, core)| Arc::clone(core));
        }
        cores.swap_remove(at);
        None
    })
}

fn remember(provider: WeakAddr<ProviderActor>, core: &Arc<ProviderCore>) {
    CORES.with_borrow_mut(|cores| {
        // Providers that are gone, or whose core was replaced, need no room.
        cores.retain(|(addr, cached)| !cached.is_superseded() && addr.upgrade().is_some());
        if cores.len() >= PER_THREAD {
            cores.remove(0);
        }
        cores.push((provider, Arc::clone(core)));
    });
}
