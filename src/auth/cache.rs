//! Tokens already checked this second, so a busy token costs one store read a second, not one
//! per request.
//!
//! Why: authenticating from the store (find the record by hash, decode it, verify it) was a
//! seventh of a completion's instructions. A token's record changes only when it is used (its
//! `last_used_at`, whole seconds) or revoked, so within one second the answer cannot change
//! except by a revocation — and `DELETE /v1/tokens/{id}` removes the token from the cache at
//! once ([`TokenCache::forget`]). A check that races with a revocation (it read the record just
//! before the revocation and would cache it just after) is not cached: every revocation starts a
//! new generation, and a check made in an older one is dropped ([`TokenCache::generation`]). An
//! entry holds only for the second it was checked in, so `last_used_at` is still written once a
//! second per token, as before.
//!
//! Keys are the tokens' SHA-256 hashes, as in the store: no token text is kept.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use super::Caller;

/// Entries kept at most; past it the cache starts over (a flood of distinct tokens must not
/// grow memory).
const MAX_ENTRIES: usize = 10_000;

/// The shared cache, one per server (registered as app data beside the state).
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, Entry>>,
    /// Counts revocations; changed only under the `entries` write lock.
    generation: AtomicU64,
}

#[derive(Debug, Clone)]
struct Entry {
    caller: Caller,
    /// The token's expiry, if it has one.
    expires: Option<SystemTime>,
    /// The second (since the epoch) it was checked against the store.
    second: u64,
}

fn second_of(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl TokenCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The caller of the token hashed `hash`, if it was checked in the second of `now` and has
    /// not expired since.
    pub fn get(&self, hash: &str, now: SystemTime) -> Option<Caller> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(hash)?;
        let fresh = entry.second == second_of(now) && entry.expires.is_none_or(|at| now < at);
        fresh.then(|| entry.caller.clone())
    }

    /// The current generation: read it before checking a token against the store, and hand it
    /// to [`TokenCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Notes that the token hashed `hash` was checked against the store at `now`, in
    /// `generation`. Nothing is noted when a token was revoked since: the check may have read the
    /// record from before the revocation.
    pub fn put(
        &self,
        hash: &str,
        caller: &Caller,
        expires: Option<SystemTime>,
        now: SystemTime,
        generation: u64,
    ) {
        let second = second_of(now);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, entry| entry.second == second);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        let entry = Entry {
            caller: caller.clone(),
            expires,
            second,
        };
        entries.insert(hash.to_owned(), entry);
    }

    /// Forgets the token with id `token_id`: it was revoked.
    pub fn forget(&self, token_id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, entry| entry.caller.token_id != token_id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::token::Scope;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    fn caller(id: &str) -> Caller {
        Caller {
            token_id: id.to_owned(),
            scopes: vec![Scope::Chat],
        }
    }

    #[test]
    fn an_entry_holds_for_the_second_it_was_checked_in() {
        let cache = TokenCache::new();
        cache.put("h1", &caller("tok_1"), None, at(100, 10), 0);
        let hit = cache.get("h1", at(100, 990)).map(|c| c.token_id);
        assert_eq!(hit.as_deref(), Some("tok_1"));
        assert!(
            cache.get("h1", at(101, 0)).is_none(),
            "a new second reads the store"
        );
        assert!(cache.get("h2", at(100, 20)).is_none());
    }

    #[test]
    fn an_expired_token_is_not_served_from_the_cache() {
        let cache = TokenCache::new();
        cache.put("h1", &caller("tok_1"), Some(at(100, 500)), at(100, 10), 0);
        assert!(cache.get("h1", at(100, 499)).is_some());
        assert!(cache.get("h1", at(100, 500)).is_none());
    }

    #[test]
    fn a_revoked_token_is_forgotten_at_once() {
        let cache = TokenCache::new();
        cache.put("h1", &caller("tok_1"), None, at(100, 0), 0);
        cache.put("h2", &caller("tok_2"), None, at(100, 0), 0);
        cache.forget("tok_1");
        assert!(cache.get("h1", at(100, 1)).is_none());
        assert!(cache.get("h2", at(100, 1)).is_some());
    }

    #[test]
    fn a_check_that_raced_with_a_revocation_is_not_cached() {
        let cache = TokenCache::new();
        let before = cache.generation();
        // The revocation lands between the store read and the put.
        cache.forget("tok_1");
        cache.put("h1", &caller("tok_1"), None, at(100, 0), before);
        assert!(cache.get("h1", at(100, 1)).is_none());
        cache.put("h1", &caller("tok_1"), None, at(100, 0), cache.generation());
        assert!(cache.get("h1", at(100, 1)).is_some());
    }

    #[test]
    fn the_cache_never_grows_past_its_bound() {
        let cache = TokenCache::new();
        for i in 0..MAX_ENTRIES + 10 {
            cache.put(
                &format!("h{i}"),
                &caller("tok"),
                None,
                at(100 + i as u64, 0),
                0,
            );
        }
        let len = cache
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        assert!(len <= MAX_ENTRIES, "{len} entries");
    }
}
