//! The retry policy: when to try a failed attempt again, and after how long.
//!
//! It follows the official Anthropic and OpenAI SDKs (PROTOCOLS.md §0) — two retries, the
//! upstream's `retry-after` hint when it gives one, else backoff from 0.5 s doubling to 8 s — with
//! two deliberate differences: the jitter is *full* (uniform from zero to the cap), because a
//! gateway retries on behalf of many clients at once and full jitter spreads a crowd of them the
//! most; and the total wait of one request is bounded, so that a client is never kept waiting
//! longer than it would take to tell it to come back later.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::error::ProviderError;

/// When and how long to retry a failed upstream attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts in all).
    pub max_retries: u32,
    /// The backoff cap of the first retry; it doubles with each further retry.
    pub initial_backoff: Duration,
    /// The largest backoff cap, whatever the attempt.
    pub max_backoff: Duration,
    /// The longest upstream hint we wait for. A longer hint means the upstream wants more time
    /// than a client should be kept waiting: we give up and pass the hint on to the client.
    pub max_retry_after: Duration,
    /// The bound on all the waiting for one request, hints and backoff together.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, 0.5 s doubling to 8 s, hints of up to 60 s honoured (as Anthropic's SDK), and
    /// at most 90 s of waiting for one request.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(90),
        }
    }
}

impl RetryPolicy {
    /// The policy that never retries (a provider registered with `max_retries: 0`).
    pub fn no_retries() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The upper bound of [`backoff`](Self::backoff) for `attempt` (0 for the wait after the first
    /// attempt): `min(max_backoff, initial_backoff * 2^attempt)`, without overflow.
    pub fn backoff_cap(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// Exponential backoff with full jitter: uniform in `[0, backoff_cap(attempt)]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let cap = u64::try_from(self.backoff_cap(attempt).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=cap))
    }

    /// Decides after a failed attempt (`attempt` is 0 for the first): `Some(wait)` to try again
    /// after `wait`, `None` to give up and return `err` to the caller.
    ///
    /// Retries only when the error is retryable (its kind, or the upstream's `x-should-retry`,
    /// which overrides the kind), attempts remain, and the wait still fits `max_total_wait` after
    /// `waited_so_far`. The wait is the upstream's hint when it gave a non-zero one; a hint longer
    /// than `max_retry_after` gives up at once so the client gets it. A zero hint (a date already
    /// past) falls back to backoff, as the SDKs do, rather than retrying at once.
    pub fn next_delay(
        &self,
        attempt: u32,
        err: &ProviderError,
        waited_so_far: Duration,
    ) -> Option<Duration> {
        if !err.is_retryable() || attempt >= self.max_retries {
            return None;
        }
        let wait = match err.retry_after {
            Some(hint) if hint > self.max_retry_after => return None,
            Some(hint) if !hint.is_zero() => hint,
            _ => self.backoff(attempt),
        };
        (waited_so_far.saturating_add(wait) <= self.max_total_wait).then_some(wait)
    }

    /// Runs `attempt_fn` (given the attempt number, from 0) until it succeeds or
    /// [`next_delay`](Self::next_delay) gives up, sleeping in between; returns the last error.
    ///
    /// For callers whose attempt needs nothing else between tries. The caller must return an
    /// error from `attempt_fn` only while nothing has reached its own client yet.
    pub async fn run<T, F, Fut>(&self, mut attempt_fn: F) -> Result<T, ProviderError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            let err = match attempt_fn(attempt).await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let Some(wait) = self.next_delay(attempt, &err, waited) else {
                return Err(err);
            };
            tracing::debug!(attempt, ?wait, kind = ?err.kind, "retrying upstream request");
            tokio::time::sleep(wait).await;
            waited = waited.saturating_add(wait);
            attempt += 1;
        }
    }
}
