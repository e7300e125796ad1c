//! A cool-down shared by every caller of one provider: "no request before T".
//!
//! When the upstream says its buckets are empty (a 429 with `retry-after`, or rate-limit headers
//! with `remaining: 0`), every request would get the same 429. The provider sets a cool-down
//! instead, and every caller waits it out — or, if it is longer than the caller may wait, gets
//! `Rate limit exceeded` with the time to come back, without touching the upstream.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::ProviderError;

/// "Not before T", shared by all callers of one provider.
///
/// A std `Mutex` rather than tokio's: it guards one `Option<Instant>`, is held for a comparison
/// only, and never across an `.await`, so it cannot block the runtime.
#[derive(Debug, Default)]
pub struct CoolDown {
    until: Mutex<Option<Instant>>,
}

impl CoolDown {
    /// A cool-down not in force.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes callers wait until at least `until`. Keeps the latest of all the instants given, so
    /// a short hint arriving after a long one cannot cut the long one short.
    pub fn extend_until(&self, until: Instant) {
        let mut current = self.until.lock().unwrap_or_else(PoisonError::into_inner);
        if current.is_none_or(|current| current < until) {
            *current = Some(until);
        }
    }

    /// How long the cool-down still runs at `now`; `None` when it is not in force.
    pub fn remaining(&self, now: Instant) -> Option<Duration> {
        self.until()
            .map(|until| until.saturating_duration_since(now))
            .filter(|remaining| !remaining.is_zero())
    }

    /// The instant the cool-down ends (possibly already past), if one was ever set.
    pub fn until(&self) -> Option<Instant> {
        *self.until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the cool-down ends, if that is within `max_wait`, and returns how long it
    /// waited; otherwise returns at once `Rate limit exceeded` with the time remaining, so the
    /// client can come back later instead of holding a connection open. Zero when there was no
    /// cool-down to wait for.
    ///
    /// A cool-down extended while we wait is waited for too (within `max_wait` overall). Time is
    /// read from tokio's clock, so tests can pause it.
    pub async fn wait(&self, max_wait: Duration) -> Result<Duration, ProviderError> {
        let start = tokio::time::Instant::now();
        let mut waited = Duration::ZERO;
        loop {
            let now = tokio::time::Instant::now();
            let Some(remaining) = self.remaining(now.into_std()) else {
                return Ok(waited);
            };
            if waited.saturating_add(remaining) > max_wait {
                return Err(ProviderError::rate_limited(Some(remaining)));
            }
            tokio::time::sleep(remaining).await;
            waited = start.elapsed();
        }
    }
}
