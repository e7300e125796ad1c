//! The circuit breaker, driven with explicit instants.

use std::time::{Duration, Instant};

use moxxy_actors::retry::{Circuit, CircuitConfig, CircuitState};
use moxxy_actors::{ErrorKind, ProviderError};

const OPEN_FOR: Duration = Duration::from_secs(30);

fn circuit() -> Circuit {
    Circuit::new(CircuitConfig {
        failure_threshold: 3,
        open_for: OPEN_FOR,
    })
}

fn fail(circuit: &Circuit, kind: ErrorKind, now: Instant) {
    let permit = circuit.acquire(now).unwrap();
    circuit.record_at(permit, Err(&ProviderError::new(kind, "x")), now);
}

fn succeed(circuit: &Circuit, now: Instant) {
    let permit = circuit.acquire(now).unwrap();
    circuit.record_at(permit, Ok(()), now);
}

/// A circuit opened at the returned instant.
fn opened() -> (Circuit, Instant) {
    let c = circuit();
    let t0 = Instant::now();
    for _ in 0..3 {
        fail(&c, ErrorKind::Upstream, t0);
    }
    (c, t0)
}

#[test]
fn defaults_are_five_failures_and_thirty_seconds() {
    let cfg = CircuitConfig::default();
    assert_eq!(
        (cfg.failure_threshold, cfg.open_for),
        (5, Duration::from_secs(30))
    );
}

#[test]
fn opens_after_the_threshold_of_consecutive_failures() {
    let c = circuit();
    let t0 = Instant::now();
    fail(&c, ErrorKind::Upstream, t0);
    fail(&c, ErrorKind::Timeout, t0);
    assert_eq!(c.state(t0), CircuitState::Closed);
    fail(&c, ErrorKind::Unreachable, t0);
    assert_eq!(
        c.state(t0),
        CircuitState::Open {
            until: t0 + OPEN_FOR
        }
    );
}

#[test]
fn rejects_while_open_saying_when_it_retries() {
    let (c, t0) = opened();
    let err = c.acquire(t0 + Duration::from_secs(10)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CircuitOpen);
    assert!(err.message.contains("circuit open"), "{}", err.message);
    assert!(err.message.contains("for 20 s more"), "{}", err.message);
    assert_eq!(err.retry_after, Some(Duration::from_secs(20)));
}

#[test]
fn a_success_resets_the_count() {
    let c = circuit();
    let t0 = Instant::now();
    fail(&c, ErrorKind::Overloaded, t0);
    fail(&c, ErrorKind::Overloaded, t0);
    succeed(&c, t0);
    fail(&c, ErrorKind::Overloaded, t0);
    fail(&c, ErrorKind::Overloaded, t0);
    assert_eq!(c.state(t0), CircuitState::Closed);
}

#[test]
fn errors_that_prove_the_upstream_is_up_do_not_open_it() {
    let c = circuit();
    let t0 = Instant::now();
    for kind in [
        ErrorKind::RateLimited,
        ErrorKind::Authentication,
        ErrorKind::InvalidRequest,
        ErrorKind::Cancelled,
        ErrorKind::RateLimited,
    ] {
        fail(&c, kind, t0);
    }
    assert_eq!(c.state(t0), CircuitState::Closed);
}

#[test]
fn half_open_lets_exactly_one_probe_through() {
    let (c, t0) = opened();
    let later = t0 + OPEN_FOR;
    assert_eq!(c.state(later), CircuitState::HalfOpen);
    let probe = c.acquire(later).unwrap();
    assert!(probe.is_probe());
    let err = c.acquire(later).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CircuitOpen);
    assert!(err.message.contains("half-open"), "{}", err.message);
    drop(probe);
}

#[test]
fn a_successful_probe_closes_it() {
    let (c, t0) = opened();
    let later = t0 + OPEN_FOR;
    let probe = c.acquire(later).unwrap();
    c.record_at(probe, Ok(()), later);
    assert_eq!(c.state(later), CircuitState::Closed);
    let a = c.acquire(later).unwrap();
    let b = c.acquire(later).unwrap();
    assert!(!a.is_probe() && !b.is_probe());
}

#[test]
fn a_failed_probe_opens_it_again() {
    let (c, t0) = opened();
    let later = t0 + OPEN_FOR;
    let probe = c.acquire(later).unwrap();
    c.record_at(
        probe,
        Err(&ProviderError::new(ErrorKind::Timeout, "x")),
        later,
    );
    assert_eq!(
        c.state(later),
        CircuitState::Open {
            until: later + OPEN_FOR
        }
    );
    assert!(c.acquire(later + Duration::from_secs(1)).is_err());
}

#[test]
fn a_dropped_probe_frees_the_slot() {
    let (c, t0) = opened();
    let later = t0 + OPEN_FOR;
    let probe = c.acquire(later).unwrap();
    drop(probe);
    let next = c.acquire(later).unwrap();
    assert!(next.is_probe());
    assert_eq!(c.state(later), CircuitState::HalfOpen);
}

#[test]
fn a_cancelled_probe_frees_the_slot_without_a_verdict() {
    let (c, t0) = opened();
    let later = t0 + OPEN_FOR;
    let probe = c.acquire(later).unwrap();
    c.record_at(
        probe,
        Err(&ProviderError::new(ErrorKind::Cancelled, "x")),
        later,
    );
    assert_eq!(c.state(later), CircuitState::HalfOpen);
    assert!(c.acquire(later).unwrap().is_probe());
}

#[test]
fn a_late_success_from_before_the_opening_does_not_close_it() {
    let c = circuit();
    let t0 = Instant::now();
    let slow = c.acquire(t0).unwrap();
    for _ in 0..3 {
        fail(&c, ErrorKind::Upstream, t0);
    }
    c.record_at(slow, Ok(()), t0);
    assert_eq!(
        c.state(t0),
        CircuitState::Open {
            until: t0 + OPEN_FOR
        }
    );
}

#[test]
fn record_uses_the_current_time() {
    let c = Circuit::new(CircuitConfig {
        failure_threshold: 1,
        open_for: OPEN_FOR,
    });
    let permit = c.acquire(Instant::now()).unwrap();
    c.record(permit, Err(&ProviderError::new(ErrorKind::Overloaded, "x")));
    assert!(matches!(c.state(Instant::now()), CircuitState::Open { .. }));
}

#[test]
fn circuit_and_permits_can_be_shared_across_tasks() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Circuit>();
    send_sync::<moxxy_actors::retry::CircuitPermit>();
    send_sync::<moxxy_actors::retry::CoolDown>();
}
