//! The retry policy: backoff, hints, bounds, and the retry loop.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moxxy_actors::retry::RetryPolicy;
use moxxy_actors::{ErrorKind, ProviderError};

fn error(kind: ErrorKind) -> ProviderError {
    ProviderError::new(kind, "test failure")
}

fn with_hint(kind: ErrorKind, hint: Duration) -> ProviderError {
    ProviderError {
        retry_after: Some(hint),
        ..error(kind)
    }
}

#[test]
fn defaults_follow_the_official_sdks() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.max_retries, 2);
    assert_eq!(policy.initial_backoff, Duration::from_millis(500));
    assert_eq!(policy.max_backoff, Duration::from_secs(8));
    assert_eq!(policy.max_retry_after, Duration::from_secs(60));
}

#[test]
fn backoff_cap_doubles_up_to_the_maximum() {
    let policy = RetryPolicy::default();
    let caps: Vec<u64> = (0..7)
        .map(|a| policy.backoff_cap(a).as_millis() as u64)
        .collect();
    assert_eq!(caps, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
    // No overflow, however many attempts.
    assert_eq!(policy.backoff_cap(u32::MAX), Duration::from_secs(8));
}

#[test]
fn backoff_is_full_jitter_within_the_cap() {
    let policy = RetryPolicy::default();
    for attempt in 0..6 {
        let cap = policy.backoff_cap(attempt);
        let samples: Vec<Duration> = (0..2000).map(|_| policy.backoff(attempt)).collect();
        assert!(
            samples.iter().all(|s| *s <= cap),
            "attempt {attempt}: above cap"
        );
        // Full jitter spreads over the whole range, not just the top quarter.
        assert!(
            samples.iter().any(|s| *s < cap / 4),
            "attempt {attempt}: none low"
        );
        assert!(
            samples.iter().any(|s| *s > cap * 3 / 4),
            "attempt {attempt}: none high"
        );
    }
}

#[test]
fn next_delay_honours_the_upstream_hint() {
    let policy = RetryPolicy::default();
    let err = with_hint(ErrorKind::RateLimited, Duration::from_secs(3));
    assert_eq!(
        policy.next_delay(0, &err, Duration::ZERO),
        Some(Duration::from_secs(3))
    );
}

#[test]
fn next_delay_without_hint_or_with_zero_hint_backs_off() {
    let policy = RetryPolicy::default();
    for err in [
        error(ErrorKind::Overloaded),
        with_hint(ErrorKind::RateLimited, Duration::ZERO),
    ] {
        let wait = policy.next_delay(1, &err, Duration::ZERO).unwrap();
        assert!(wait <= policy.backoff_cap(1), "{wait:?}");
    }
}

#[test]
fn next_delay_gives_up_when_attempts_are_spent() {
    let policy = RetryPolicy::default();
    let err = error(ErrorKind::Upstream);
    assert!(policy.next_delay(1, &err, Duration::ZERO).is_some());
    assert_eq!(policy.next_delay(2, &err, Duration::ZERO), None);
    assert_eq!(
        RetryPolicy::no_retries().next_delay(0, &err, Duration::ZERO),
        None
    );
}

#[test]
fn next_delay_gives_up_on_a_hint_longer_than_we_honour() {
    let policy = RetryPolicy::default();
    let err = with_hint(ErrorKind::RateLimited, Duration::from_secs(61));
    assert_eq!(policy.next_delay(0, &err, Duration::ZERO), None);
    let err = with_hint(ErrorKind::RateLimited, Duration::from_secs(60));
    assert_eq!(
        policy.next_delay(0, &err, Duration::ZERO),
        Some(Duration::from_secs(60))
    );
}

#[test]
fn next_delay_gives_up_when_the_total_wait_would_pass_the_bound() {
    let policy = RetryPolicy::default();
    let err = with_hint(ErrorKind::RateLimited, Duration::from_secs(3));
    assert_eq!(policy.next_delay(1, &err, Duration::from_secs(88)), None);
    assert_eq!(
        policy.next_delay(1, &err, Duration::from_secs(87)),
        Some(Duration::from_secs(3))
    );
}

#[test]
fn next_delay_retries_only_retryable_kinds() {
    let policy = RetryPolicy::default();
    for kind in [
        ErrorKind::RateLimited,
        ErrorKind::Overloaded,
        ErrorKind::Upstream,
        ErrorKind::Unreachable,
        ErrorKind::Timeout,
    ] {
        assert!(
            policy
                .next_delay(0, &error(kind.clone()), Duration::ZERO)
                .is_some(),
            "{kind:?}"
        );
    }
    for kind in [
        ErrorKind::InvalidRequest,
        ErrorKind::Authentication,
        ErrorKind::Permission,
        ErrorKind::Billing,
        ErrorKind::ModelNotFound,
        ErrorKind::RequestTooLarge,
        ErrorKind::NoCredentials,
        ErrorKind::CircuitOpen,
        ErrorKind::Cancelled,
    ] {
        assert_eq!(
            policy.next_delay(0, &error(kind.clone()), Duration::ZERO),
            None,
            "{kind:?}"
        );
    }
}

#[test]
fn x_should_retry_overrides_the_kind() {
    let policy = RetryPolicy::default();
    let forbidden = ProviderError {
        should_retry: Some(false),
        ..error(ErrorKind::Overloaded)
    };
    assert_eq!(policy.next_delay(0, &forbidden, Duration::ZERO), None);
    let asked = ProviderError {
        should_retry: Some(true),
        ..error(ErrorKind::InvalidRequest)
    };
    assert!(policy.next_delay(0, &asked, Duration::ZERO).is_some());
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn run_retries_transient_failures_until_success() {
    let calls = AtomicU32::new(0);
    let result = fast_policy()
        .run(|attempt| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if attempt < 2 {
                    Err(error(ErrorKind::Overloaded))
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;
    assert_eq!(result, Ok(2));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn run_returns_the_last_error_when_retries_are_spent() {
    let calls = AtomicU32::new(0);
    let result: Result<(), _> = fast_policy()
        .run(|attempt| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                Err(ProviderError::new(
                    ErrorKind::Upstream,
                    format!("try {attempt}"),
                ))
            }
        })
        .await;
    assert_eq!(result.unwrap_err().message, "try 2");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn run_does_not_retry_a_non_retryable_error() {
    let calls = AtomicU32::new(0);
    let result: Result<(), _> = fast_policy()
        .run(|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(ProviderError::authentication()) }
        })
        .await;
    assert_eq!(result.unwrap_err().kind, ErrorKind::Authentication);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
