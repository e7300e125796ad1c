//! Our own requests- and tokens-per-minute limits for one provider (a registration's
//! `rate_limit`), enforced before a request leaves, so a tight upstream budget is shared out
//! instead of being discovered one 429 at a time.
//!
//! Each limit is a [`governor`] GCRA bucket that holds a minute's worth and refills evenly. Tokens
//! are not known until the upstream answers, so a request pays its *estimate* up front
//! ([`RateLimiter::acquire`]) and the shortfall after the answer ([`RateLimiter::reconcile`]): a
//! limiter that only counted requests would let one huge prompt through a tight budget.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, ProviderError};

/// A provider's limits, as registered (`{"requests_per_minute", "tokens_per_minute"}`). An absent
/// limit is no limit; so is 0, which config validation should refuse before it gets here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests a minute, in a burst of at most that many.
    pub requests_per_minute: Option<u32>,
    /// Tokens (prompt and answer) a minute; a single request may use at most that many.
    pub tokens_per_minute: Option<u32>,
}

/// The tokens-per-minute bucket and what past requests still owe it.
struct TokenBucket {
    limiter: DefaultDirectRateLimiter,
    per_minute: NonZeroU32,
    /// Tokens that requests used beyond their estimate and could not pay at once; the next
    /// request pays them with its own.
    debt: AtomicU64,
}

/// The limits of one provider, shared by all its callers.
pub struct RateLimiter {
    config: RateLimitConfig,
    requests: Option<DefaultDirectRateLimiter>,
    tokens: Option<TokenBucket>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Buckets for the limits `cfg` sets, each starting full.
    pub fn new(cfg: &RateLimitConfig) -> Self {
        let per_minute = |limit: Option<u32>| limit.and_then(NonZeroU32::new);
        RateLimiter {
            config: cfg.clone(),
            requests: per_minute(cfg.requests_per_minute)
                .map(|rpm| DefaultDirectRateLimiter::direct(Quota::per_minute(rpm))),
            tokens: per_minute(cfg.tokens_per_minute).map(|tpm| TokenBucket {
                limiter: DefaultDirectRateLimiter::direct(Quota::per_minute(tpm)),
                per_minute: tpm,
                debt: AtomicU64::new(0),
            }),
        }
    }

    /// The limits this limiter enforces.
    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Waits, up to `max_wait`, for one request and `estimated_tokens` tokens (plus any debt left
    /// by earlier requests, capped at a minute's budget so no request can wait forever).
    ///
    /// A request estimated above the whole minute's token budget could never go: it is refused at
    /// once as `InvalidRequest`, saying so. Past `max_wait` it is `Rate limit exceeded` with the
    /// wait that would have been needed. A request slot taken before the token wait gave up is
    /// not given back (governor cannot refund); the error is conservative, never generous.
    pub async fn acquire(
        &self,
        estimated_tokens: u64,
        max_wait: Duration,
    ) -> Result<(), ProviderError> {
        if let Some(bucket) = &self.tokens {
            let budget = u64::from(bucket.per_minute.get());
            if estimated_tokens > budget {
                return Err(ProviderError::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "This request needs about {estimated_tokens} tokens, more than this \
                         provider's whole limit of {budget} tokens per minute: shorten it or \
                         raise the provider's tokens_per_minute"
                    ),
                ));
            }
        }
        let start = tokio::time::Instant::now();
        if let Some(requests) = &self.requests {
            wait_for(requests, NonZeroU32::MIN, start, max_wait).await?;
        }
        if let Some(bucket) = &self.tokens {
            let debt = bucket.debt.swap(0, Ordering::Relaxed);
            let wanted = estimated_tokens
                .saturating_add(debt)
                .min(u64::from(bucket.per_minute.get()));
            let cells = u32::try_from(wanted).ok().and_then(NonZeroU32::new);
            if let Some(cells) = cells {
                if let Err(err) = wait_for(&bucket.limiter, cells, start, max_wait).await {
                    bucket.add_debt(debt);
                    return Err(err);
                }
            }
        }
        Ok(())
    }

    /// After the answer: if the request used more tokens than it was estimated at, takes the
    /// shortfall from the bucket now, or leaves it as debt for the next request. An overestimate
    /// is not refunded (governor cannot), so estimates should err low, not high.
    pub fn reconcile(&self, estimated: u64, actual: u64) {
        let Some(bucket) = &self.tokens else {
            return;
        };
        let shortfall = actual
            .saturating_sub(estimated)
            .min(u64::from(bucket.per_minute.get()));
        let Some(cells) = u32::try_from(shortfall).ok().and_then(NonZeroU32::new) else {
            return;
        };
        if !matches!(bucket.limiter.check_n(cells), Ok(Ok(()))) {
            bucket.add_debt(shortfall);
        }
    }
}

impl TokenBucket {
    /// Adds to the debt, never beyond one minute's budget (more could never be paid at once).
    fn add_debt(&self, tokens: u64) {
        let cap = u64::from(self.per_minute.get());
        // The closure always returns Some, so this never fails.
        let _ = self
            .debt
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |debt| {
                Some(debt.saturating_add(tokens).min(cap))
            });
    }
}

/// Takes `cells` from `limiter`, sleeping as governor says, unless the total wait since `start`
/// would pass `max_wait`.
async fn wait_for(
    limiter: &DefaultDirectRateLimiter,
    cells: NonZeroU32,
    start: tokio::time::Instant,
    max_wait: Duration,
) -> Result<(), ProviderError> {
    loop {
        let not_until = match limiter.check_n(cells) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(not_until)) => not_until,
            // The callers clamp `cells` to the bucket's size, so this cannot happen; refuse
            // rather than spin if it ever does.
            Err(capacity) => {
                return Err(ProviderError::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "This request is larger than the rate limit allows at once ({capacity})"
                    ),
                ))
            }
        };
        let wait = not_until.wait_time_from(limiter.clock().now());
        if start.elapsed().saturating_add(wait) > max_wait {
            return Err(ProviderError::rate_limited(Some(wait)));
        }
        // At least a millisecond, so a wait rounded to zero cannot become a busy loop.
        tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
    }
}
