//! The circuit breaker: after repeated signs that the upstream is down, refuse at once.
//!
//! Closed, it lets everything through and counts consecutive failures that say the upstream is
//! unwell (`Upstream`, `Overloaded`, `Unreachable`, `Timeout`). At the threshold it opens: every
//! request is refused with `CircuitOpen` for `open_for`, instead of each one waiting for its own
//! timeout. Then it is half-open: exactly one request (the probe) goes through; its success closes
//! the circuit, its failure opens it again. A probe that ends without a verdict (cancelled,
//! dropped) frees the slot for the next one, so a caller that went away cannot wedge the circuit.
//!
//! An answer that is an error but proves the upstream is up (a 400, a 401, a 429) counts as health:
//! rate limits have their own cool-down, and a bad key is not an outage.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{ErrorKind, ProviderError};

/// When the circuit opens and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitConfig {
    /// Consecutive upstream failures that open the circuit.
    pub failure_threshold: u32,
    /// How long it stays open before letting a probe through.
    pub open_for: Duration,
}

impl Default for CircuitConfig {
    /// Five consecutive failures open it for thirty seconds.
    fn default() -> Self {
        CircuitConfig {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// What the circuit does with a request at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Requests go through.
    Closed,
    /// Requests are refused until `until`.
    Open { until: Instant },
    /// One probe may go through (or is in flight); the others are refused.
    HalfOpen,
}

/// What an outcome says about the upstream's health.
enum Verdict {
    Healthy,
    Unwell,
    /// The request never got an answer that says anything (cancelled, no key, …).
    Unknown,
}

fn verdict(outcome: Result<(), &ProviderError>) -> Verdict {
    match outcome {
        Ok(()) => Verdict::Healthy,
        Err(err) => match err.kind {
            ErrorKind::Upstream
            | ErrorKind::Overloaded
            | ErrorKind::Unreachable
            | ErrorKind::Timeout => Verdict::Unwell,
            ErrorKind::Cancelled
            | ErrorKind::Unavailable
            | ErrorKind::NoCredentials
            | ErrorKind::CircuitOpen => Verdict::Unknown,
            ErrorKind::InvalidRequest
            | ErrorKind::Authentication
            | ErrorKind::Permission
            | ErrorKind::Billing
            | ErrorKind::ModelNotFound
            | ErrorKind::NotFound
            | ErrorKind::RequestTooLarge
            | ErrorKind::RateLimited => Verdict::Healthy,
        },
    }
}

#[derive(Debug, Default)]
struct Inner {
    consecutive_failures: u32,
    /// Set while open or half-open: the instant the probe may go.
    open_until: Option<Instant>,
    probe_in_flight: bool,
}

impl Inner {
    fn close(&mut self) {
        *self = Inner::default();
    }
}

/// A circuit breaker for one provider, shared by all its callers.
#[derive(Debug)]
pub struct Circuit {
    cfg: CircuitConfig,
    inner: Arc<Mutex<Inner>>,
}

/// Leave to send one request, to be handed back to [`Circuit::record`] with its outcome.
#[derive(Debug)]
pub struct CircuitPermit {
    inner: Arc<Mutex<Inner>>,
    probe: bool,
    settled: bool,
}

impl CircuitPermit {
    /// Whether this request is the half-open circuit's single probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl Drop for CircuitPermit {
    /// A probe dropped without a verdict frees the slot so the next request can probe.
    fn drop(&mut self) {
        if self.probe && !self.settled {
            lock(&self.inner).probe_in_flight = false;
        }
    }
}

/// The state lock. Never held across an `.await`; a panic while holding it cannot leave the
/// state half-written (every update is a plain assignment), so poisoning is ignored.
fn lock(inner: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Circuit {
    /// A closed circuit.
    pub fn new(cfg: CircuitConfig) -> Self {
        Circuit {
            cfg,
            inner: Arc::default(),
        }
    }

    /// Leave to send a request at `now`, or `CircuitOpen` saying why not and when to retry.
    pub fn acquire(&self, now: Instant) -> Result<CircuitPermit, ProviderError> {
        let mut inner = lock(&self.inner);
        let probe = match inner.open_until {
            None => false,
            Some(until) if now < until => {
                let remaining = until.saturating_duration_since(now);
                let mut err = ProviderError::new(
                    ErrorKind::CircuitOpen,
                    format!(
                        "circuit open after {} consecutive upstream failures; requests are refused \
                         for {} more, then one probe is let through",
                        inner.consecutive_failures,
                        crate::error::describe_duration(remaining)
                    ),
                );
                err.retry_after = Some(remaining);
                return Err(err);
            }
            Some(_) if inner.probe_in_flight => {
                return Err(ProviderError::new(
                    ErrorKind::CircuitOpen,
                    "Circuit half-open: a probe request is testing the upstream; other requests \
                     are refused until it succeeds",
                ));
            }
            Some(_) => {
                inner.probe_in_flight = true;
                true
            }
        };
        Ok(CircuitPermit {
            inner: Arc::clone(&self.inner),
            probe,
            settled: false,
        })
    }

    /// Records the outcome of the request `permit` let through (now).
    pub fn record(&self, permit: CircuitPermit, outcome: Result<(), &ProviderError>) {
        self.record_at(permit, outcome, Instant::now());
    }

    /// Records the outcome of the request `permit` let through, as of `now`.
    pub fn record_at(
        &self,
        mut permit: CircuitPermit,
        outcome: Result<(), &ProviderError>,
        now: Instant,
    ) {
        permit.settled = true;
        let mut inner = lock(&self.inner);
        match (verdict(outcome), permit.probe) {
            (Verdict::Healthy, true) => inner.close(),
            // A success that started before the circuit opened resets the count but does not
            // close it: only the probe, sent after the pause, says the upstream is back.
            (Verdict::Healthy, false) => inner.consecutive_failures = 0,
            (Verdict::Unwell, true) => {
                inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
                inner.open_until = Some(self.reopen_at(now));
                inner.probe_in_flight = false;
            }
            (Verdict::Unwell, false) => {
                inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
                if inner.open_until.is_none()
                    && inner.consecutive_failures >= self.cfg.failure_threshold
                {
                    tracing::warn!(
                        failures = inner.consecutive_failures,
                        open_for = ?self.cfg.open_for,
                        "circuit opened"
                    );
                    inner.open_until = Some(self.reopen_at(now));
                }
            }
            (Verdict::Unknown, true) => inner.probe_in_flight = false,
            (Verdict::Unknown, false) => {}
        }
    }

    /// When a circuit opened at `now` lets its probe through (far away, not a panic, if
    /// `open_for` is absurdly large).
    fn reopen_at(&self, now: Instant) -> Instant {
        now.checked_add(self.cfg.open_for)
            .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
            .unwrap_or(now)
    }

    /// The circuit's state at `now`.
    pub fn state(&self, now: Instant) -> CircuitState {
        match lock(&self.inner).open_until {
            None => CircuitState::Closed,
            Some(until) if now < until => CircuitState::Open { until },
            Some(_) => CircuitState::HalfOpen,
        }
    }
}
