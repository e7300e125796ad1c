//! Our own requests- and tokens-per-minute limits (real time: governor keeps its own clock).
//! Counts are asserted with slack for a slow, shared machine; no test relies on exact timing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use moxxy_actors::ratelimit::{RateLimitConfig, RateLimiter};
use moxxy_actors::ErrorKind;

fn limiter(rpm: Option<u32>, tpm: Option<u32>) -> RateLimiter {
    RateLimiter::new(&RateLimitConfig {
        requests_per_minute: rpm,
        tokens_per_minute: tpm,
    })
}

#[tokio::test]
async fn no_limits_never_wait() {
    let limiter = limiter(None, None);
    for _ in 0..1000 {
        limiter.acquire(1_000_000, Duration::ZERO).await.unwrap();
    }
    limiter.reconcile(0, 1_000_000);
}

#[tokio::test]
async fn zero_means_no_limit() {
    let limiter = limiter(Some(0), Some(0));
    for _ in 0..100 {
        limiter.acquire(10, Duration::ZERO).await.unwrap();
    }
}

#[tokio::test]
async fn requests_per_minute_allow_a_minute_burst_then_refuse() {
    let limiter = limiter(Some(120), None);
    let mut granted = 0;
    for _ in 0..200 {
        if limiter.acquire(0, Duration::ZERO).await.is_ok() {
            granted += 1;
        }
    }
    assert!((120..=124).contains(&granted), "granted {granted}");
    let err = limiter.acquire(0, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.message, "Rate limit exceeded");
    let wait = err.retry_after.unwrap();
    assert!(wait <= Duration::from_millis(500), "{wait:?}");
}

#[tokio::test]
async fn requests_per_minute_refill_at_the_set_rate() {
    // 120/min is one every 500 ms once the burst is spent.
    let limiter = limiter(Some(120), None);
    while limiter.acquire(0, Duration::ZERO).await.is_ok() {}
    let start = Instant::now();
    let mut granted = 0;
    while start.elapsed() < Duration::from_millis(1600) {
        if limiter.acquire(0, Duration::from_secs(2)).await.is_ok() {
            granted += 1;
        }
    }
    // About 3 in 1.6 s (plus the one that ends the window): never a burst, never stuck.
    assert!((1..=6).contains(&granted), "granted {granted}");
}

#[tokio::test]
async fn tokens_per_minute_refuse_what_the_bucket_lacks() {
    // 6000/min is 100 tokens a second.
    let limiter = limiter(None, Some(6000));
    limiter.acquire(5000, Duration::ZERO).await.unwrap();
    let err = limiter.acquire(2000, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    let wait = err.retry_after.unwrap();
    // 1000 tokens short at 100 a second.
    assert!(
        wait > Duration::from_secs(8) && wait <= Duration::from_secs(10),
        "{wait:?}"
    );
    limiter.acquire(900, Duration::ZERO).await.unwrap();
}

#[tokio::test]
async fn a_prompt_larger_than_the_minute_budget_is_refused_as_invalid() {
    let limiter = limiter(None, Some(6000));
    let err = limiter
        .acquire(6001, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(
        err.message.contains("6000 tokens per minute"),
        "{}",
        err.message
    );
    // The whole budget is still allowed.
    limiter.acquire(6000, Duration::ZERO).await.unwrap();
}

#[tokio::test]
async fn acquire_waits_within_max_wait() {
    // 600/min is 10 tokens a second: 5 tokens come back in about half a second.
    let limiter = limiter(None, Some(600));
    limiter.acquire(600, Duration::ZERO).await.unwrap();
    let start = Instant::now();
    limiter.acquire(5, Duration::from_secs(3)).await.unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[tokio::test]
async fn reconcile_charges_the_shortfall_now() {
    let limiter = limiter(None, Some(6000));
    limiter.acquire(1000, Duration::ZERO).await.unwrap();
    // The request really used 5900: only about 100 tokens are left.
    limiter.reconcile(1000, 5900);
    let err = limiter.acquire(500, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
}

#[tokio::test]
async fn a_shortfall_that_cannot_be_paid_now_is_paid_by_the_next_request() {
    let limiter = limiter(None, Some(6000));
    limiter.acquire(6000, Duration::ZERO).await.unwrap();
    limiter.reconcile(0, 3000);
    let err = limiter.acquire(100, Duration::ZERO).await.unwrap_err();
    // 100 tokens plus 3000 owed, at 100 a second: about 31 s, not 1 s.
    let wait = err.retry_after.unwrap();
    assert!(wait > Duration::from_secs(20), "{wait:?}");
    // The debt survives a failed acquire: asking again still owes it.
    let again = limiter.acquire(100, Duration::ZERO).await.unwrap_err();
    assert!(again.retry_after.unwrap() > Duration::from_secs(20));
}

#[tokio::test]
async fn an_overestimate_is_not_refunded() {
    let limiter = limiter(None, Some(6000));
    limiter.acquire(6000, Duration::ZERO).await.unwrap();
    limiter.reconcile(6000, 10);
    assert!(limiter.acquire(1000, Duration::ZERO).await.is_err());
}

#[tokio::test]
async fn both_limits_apply_together() {
    let limiter = limiter(Some(60), Some(600));
    limiter.acquire(600, Duration::ZERO).await.unwrap();
    // Requests remain, tokens do not.
    let err = limiter.acquire(100, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    // A request needing no tokens is governed by the requests bucket only.
    limiter.acquire(0, Duration::ZERO).await.unwrap();
}

#[test]
fn config_reads_the_registration_form() {
    let cfg: RateLimitConfig = serde_json::from_str(r#"{"requests_per_minute": 60}"#).unwrap();
    assert_eq!(cfg.requests_per_minute, Some(60));
    assert_eq!(cfg.tokens_per_minute, None);
    let cfg: RateLimitConfig =
        serde_json::from_str(r#"{"requests_per_minute": null, "tokens_per_minute": 1000}"#)
            .unwrap();
    assert_eq!(cfg.tokens_per_minute, Some(1000));
    assert!(serde_json::from_str::<RateLimitConfig>(r#"{"rpm": 60}"#).is_err());
    let limiter = RateLimiter::new(&cfg);
    assert_eq!(limiter.config(), &cfg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_limiter_is_shared_by_concurrent_tasks() {
    let limiter = Arc::new(limiter(Some(120), None));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                let mut granted = 0;
                for _ in 0..50 {
                    if limiter.acquire(0, Duration::ZERO).await.is_ok() {
                        granted += 1;
                    }
                }
                granted
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    // 200 tries against a burst of 120: the bucket is shared, not per task.
    assert!((120..=124).contains(&total), "granted {total}");
}
