//! The cool-down shared by all callers of a provider (real time, short durations).

use std::sync::Arc;
use std::time::{Duration, Instant};

use moxxy_actors::retry::CoolDown;
use moxxy_actors::ErrorKind;

#[test]
fn keeps_the_latest_instant() {
    let cool = CoolDown::new();
    let now = Instant::now();
    assert_eq!(cool.until(), None);
    cool.extend_until(now + Duration::from_secs(10));
    cool.extend_until(now + Duration::from_secs(5));
    assert_eq!(cool.until(), Some(now + Duration::from_secs(10)));
    cool.extend_until(now + Duration::from_secs(20));
    assert_eq!(cool.until(), Some(now + Duration::from_secs(20)));
}

#[test]
fn remaining_is_none_once_over() {
    let cool = CoolDown::new();
    let now = Instant::now();
    assert_eq!(cool.remaining(now), None);
    cool.extend_until(now + Duration::from_secs(10));
    assert_eq!(cool.remaining(now), Some(Duration::from_secs(10)));
    assert_eq!(cool.remaining(now + Duration::from_secs(10)), None);
    assert_eq!(cool.remaining(now + Duration::from_secs(11)), None);
}

#[tokio::test]
async fn wait_returns_at_once_when_not_cooling_down() {
    let cool = CoolDown::new();
    let waited = cool.wait(Duration::ZERO).await.unwrap();
    assert_eq!(waited, Duration::ZERO);
    cool.extend_until(Instant::now() - Duration::from_millis(1));
    assert!(cool.wait(Duration::ZERO).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_concurrent_waiter_waits_until_the_end() {
    let cool = Arc::new(CoolDown::new());
    let end = Instant::now() + Duration::from_millis(300);
    cool.extend_until(end);
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let cool = Arc::clone(&cool);
            tokio::spawn(async move {
                let waited = cool.wait(Duration::from_secs(5)).await;
                (waited, Instant::now())
            })
        })
        .collect();
    for waiter in waiters {
        let (waited, finished) = waiter.await.unwrap();
        assert!(
            finished >= end,
            "a waiter finished {:?} early",
            end - finished
        );
        assert!(waited.unwrap() >= Duration::from_millis(250));
    }
}

#[tokio::test]
async fn a_cool_down_extended_while_waiting_is_waited_for() {
    let cool = Arc::new(CoolDown::new());
    let start = Instant::now();
    cool.extend_until(start + Duration::from_millis(100));
    let waiter = {
        let cool = Arc::clone(&cool);
        tokio::spawn(async move { cool.wait(Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    let later = start + Duration::from_millis(300);
    cool.extend_until(later);
    waiter.await.unwrap().unwrap();
    assert!(Instant::now() >= later);
}

#[tokio::test]
async fn a_cool_down_longer_than_max_wait_fails_at_once_with_the_time_left() {
    let cool = CoolDown::new();
    cool.extend_until(Instant::now() + Duration::from_secs(10));
    let start = Instant::now();
    let err = cool.wait(Duration::from_secs(2)).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_millis(500), "it waited");
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.message, "Rate limit exceeded");
    let left = err.retry_after.unwrap();
    assert!(
        left > Duration::from_secs(9) && left <= Duration::from_secs(10),
        "{left:?}"
    );
}
