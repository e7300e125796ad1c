//! Non-streamed load: closed-loop throughput at a fixed concurrency, and open-loop latency at a
//! fixed arrival rate.
//!
//! Open loop: request `i` is due at `t0 + i / rate`, whatever happened to the earlier ones, and
//! its latency runs from that due time — so a server that stalls is charged for every request
//! that waited behind the stall (no coordinated omission). Requests are dispatched by a thread
//! of their own that sleeps to each due time (the runtime's timer ticks in whole milliseconds,
//! too coarse at 5,000 req/s), and handed to the runtime to run.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::client::{Client, Failure, Target};

/// How long one request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests in flight at most in an open-loop run; more wait (and their wait is measured).
const MAX_IN_FLIGHT: usize = 4096;

/// Latencies in microseconds, from 1 µs to 100 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("constant bounds are valid")
}

/// What one run measured.
pub struct Measured {
    /// Requests that completed inside the measured window.
    pub completed: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// The measured window.
    pub window: Duration,
    /// Per request, µs (closed loop: from send; open loop: from the due time).
    pub latency: Histogram<u64>,
    /// moxxy's `x-moxxy-overhead-ms` of each answer, in µs (empty when not sent).
    pub reported_overhead: Histogram<u64>,
    /// Open loop: how late the dispatcher sent the latest request.
    pub dispatch_lag: Duration,
}

impl Measured {
    pub fn new(window: Duration) -> Measured {
        Measured {
            completed: 0,
            errors: 0,
            first_error: None,
            window,
            latency: histogram(),
            reported_overhead: histogram(),
            dispatch_lag: Duration::ZERO,
        }
    }

    fn record(&mut self, result: Result<Option<f64>, Failure>, took: Duration) {
        match result {
            Ok(overhead_ms) => {
                self.completed += 1;
                let _ = self.latency.record(micros(took));
                if let Some(ms) = overhead_ms {
                    let _ = self.reported_overhead.record((ms * 1000.0).max(1.0) as u64);
                }
            }
            Err(failure) => {
                self.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(failure.to_string());
                }
            }
        }
    }

    /// Adds another run's requests and latencies (their windows add up).
    pub fn merge(&mut self, other: Measured) {
        self.completed += other.completed;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        let _ = self.latency.add(&other.latency);
        let _ = self.reported_overhead.add(&other.reported_overhead);
        self.dispatch_lag = self.dispatch_lag.max(other.dispatch_lag);
    }

    /// Extends the window by another run's (for runs merged one after another).
    pub fn extend_window(&mut self, by: Duration) {
        self.window += by;
    }

    /// Completed requests per second of the window.
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.window.as_secs_f64().max(1e-9)
    }
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

async fn one(client: &Client, target: &Target) -> Result<Option<f64>, Failure> {
    match tokio::time::timeout(REQUEST_TIMEOUT, client.exchange(target)).await {
        Ok(Ok(answer)) => Ok(answer.overhead_ms),
        Ok(Err(failure)) => Err(failure),
        Err(_) => Err(Failure::Timeout),
    }
}

/// `concurrency` connections, each sending its next request as soon as the last is answered:
/// the most the path sustains. Requests answered within `[warmup, warmup + duration)` count.
pub async fn closed_loop(
    client: &Client,
    target: &Target,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let from = Instant::now() + warmup;
    let until = from + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (client, target) = (client.clone(), target.clone());
        tasks.spawn(async move {
            let mut measured = Measured::new(duration);
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let result = one(&client, &target).await;
                let done = Instant::now();
                let failed = result.is_err();
                if done >= from && done < until {
                    measured.record(result, done - sent);
                }
                if failed {
                    // A refused connection fails at once: do not spin on it.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            measured
        });
    }
    let mut total = Measured::new(duration);
    while let Some(joined) = tasks.join_next().await {
        if let Ok(measured) = joined {
            total.merge(measured);
        }
    }
    total
}

/// Sends `rate` requests per second for `duration`, each at its due time, and measures each from
/// that time. Waits for the stragglers at most [`REQUEST_TIMEOUT`] after the last is due.
pub async fn open_loop(
    client: &Client,
    target: &Target,
    rate: u64,
    duration: Duration,
) -> Measured {
    let count = (rate as f64 * duration.as_secs_f64()).round().max(1.0) as u64;
    let period = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let runtime = tokio::runtime::Handle::current();
    let gate = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let lag = Arc::new(Mutex::new(Duration::ZERO));
    let start = Instant::now() + Duration::from_millis(20);
    let dispatcher = {
        let (client, target, lag) = (client.clone(), target.clone(), Arc::clone(&lag));
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            for i in 0..count {
                let due = start + period.mul_f64(i as f64);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                } else {
                    worst = worst.max(now - due);
                }
                let (client, target, gate, done) = (
                    client.clone(),
                    target.clone(),
                    Arc::clone(&gate),
                    done_tx.clone(),
                );
                runtime.spawn(async move {
                    let result = match gate.acquire().await {
                        Ok(_permit) => one(&client, &target).await,
                        Err(_) => Err(Failure::Transport("the dispatcher closed".to_owned())),
                    };
                    let _ = done.send((result, due.elapsed()));
                });
            }
            *lag.lock().unwrap_or_else(PoisonError::into_inner) = worst;
        })
    };
    let mut measured = Measured::new(duration);
    let deadline = start + duration + REQUEST_TIMEOUT + Duration::from_secs(1);
    let mut received = 0;
    while received < count {
        match tokio::time::timeout_at(deadline.into(), done_rx.recv()).await {
            Ok(Some((result, took))) => {
                measured.record(result, took);
                received += 1;
            }
            _ => break,
        }
    }
    let missing = count - received;
    if missing > 0 {
        measured.errors += missing;
        measured
            .first_error
            .get_or_insert_with(|| format!("{missing} requests never finished"));
    }
    let _ = tokio::task::spawn_blocking(move || dispatcher.join()).await;
    measured.dispatch_lag = *lag.lock().unwrap_or_else(PoisonError::into_inner);
    measured
}
