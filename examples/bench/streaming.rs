//! Streamed load: the time to the first token and the spacing of the rest on paced streams, and
//! thousands of slow streams held open at once.
//!
//! A token is an SSE event that carries answer text (the fake's canned words, `"word…`), in
//! either protocol. Its arrival time is that of the body frame that completed it; two tokens
//! completed by one frame were coalesced somewhere on the way.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use http_body_util::BodyExt;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::client::{Client, Target, OVERHEAD_HEADER};
use crate::load::{histogram, micros, REQUEST_TIMEOUT};

/// Counts the tokens in SSE bytes as they arrive, across frame boundaries.
#[derive(Default)]
struct TokenCounter {
    pending: Vec<u8>,
}

impl TokenCounter {
    /// Tokens completed by `bytes`.
    fn feed(&mut self, bytes: &[u8]) -> usize {
        self.pending.extend_from_slice(bytes);
        let mut tokens = 0;
        while let Some(end) = find(&self.pending, b"\n\n") {
            if find(&self.pending[..end], b"\"word").is_some() {
                tokens += 1;
            }
            self.pending.drain(..end + 2);
        }
        tokens
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What the paced streams measured.
pub struct Paced {
    pub streams: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// From send to the first token, µs.
    pub first_token: Histogram<u64>,
    /// |gap between two tokens − the upstream's pace|, µs.
    pub spacing_error: Histogram<u64>,
    pub tokens: u64,
    /// Tokens that arrived in the same frame as the one before.
    pub coalesced: u64,
    /// moxxy's `x-moxxy-overhead-ms` of each stream, µs (empty when not sent).
    pub reported_overhead: Histogram<u64>,
}

impl Paced {
    fn new() -> Paced {
        Paced {
            streams: 0,
            errors: 0,
            first_error: None,
            first_token: histogram(),
            spacing_error: histogram(),
            tokens: 0,
            coalesced: 0,
            reported_overhead: histogram(),
        }
    }

    fn merge(&mut self, other: Paced) {
        self.streams += other.streams;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        let _ = self.first_token.add(&other.first_token);
        let _ = self.spacing_error.add(&other.spacing_error);
        self.tokens += other.tokens;
        self.coalesced += other.coalesced;
        let _ = self.reported_overhead.add(&other.reported_overhead);
    }
}

/// `concurrency` clients each streaming one answer after the other for `duration`; the upstream
/// sends a chunk every `pace`.
pub async fn paced(
    client: &Client,
    target: &Target,
    concurrency: usize,
    duration: Duration,
    pace: Duration,
) -> Paced {
    let until = Instant::now() + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (client, target) = (client.clone(), target.clone());
        tasks.spawn(async move {
            let mut measured = Paced::new();
            while Instant::now() < until {
                let outcome =
                    tokio::time::timeout(REQUEST_TIMEOUT, one_paced(&client, &target, pace)).await;
                match outcome {
                    Ok(Ok(stream)) => measured.merge(stream),
                    Ok(Err(error)) => {
                        measured.errors += 1;
                        measured.first_error.get_or_insert(error);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    Err(_) => {
                        measured.errors += 1;
                        measured
                            .first_error
                            .get_or_insert_with(|| "timeout".to_owned());
                    }
                }
            }
            measured
        });
    }
    let mut total = Paced::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(measured) = joined {
            total.merge(measured);
        }
    }
    total
}

async fn one_paced(client: &Client, target: &Target, pace: Duration) -> Result<Paced, String> {
    let sent = Instant::now();
    let response = client.open(target).await.map_err(|f| f.to_string())?;
    let mut measured = Paced::new();
    let reported = response
        .headers()
        .get(OVERHEAD_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok());
    if let Some(ms) = reported {
        let _ = measured
            .reported_overhead
            .record((ms * 1000.0).max(1.0) as u64);
    }
    let mut body = response.into_body();
    let mut counter = TokenCounter::default();
    let mut last: Option<Instant> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("stream broke: {e}"))?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let now = Instant::now();
        let tokens = counter.feed(data);
        if tokens == 0 {
            continue;
        }
        measured.tokens += tokens as u64;
        measured.coalesced += tokens as u64 - 1;
        match last {
            None => {
                let _ = measured.first_token.record(micros(now - sent));
            }
            Some(before) => {
                let gap = now - before;
                let off = gap.abs_diff(pace);
                let _ = measured.spacing_error.record(micros(off));
            }
        }
        // Coalesced tokens came with no gap at all: each is a whole pace off.
        for _ in 1..tokens {
            let _ = measured.spacing_error.record(micros(pace));
        }
        last = Some(now);
    }
    if measured.tokens == 0 {
        return Err("a stream without a token".to_owned());
    }
    measured.streams = 1;
    Ok(measured)
}

/// Streams held open at once, and what holding them cost.
pub struct Held {
    /// Streams that delivered their first token.
    pub opened: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    /// From the first request to the last stream opened (or the give-up time).
    pub open_time: Duration,
    /// Tokens delivered while all were held.
    pub tokens_while_held: u64,
}

/// Opens `count` streams at `ramp` new ones per second (a controlled ramp, so the listen backlog
/// never overflows), waits until each has delivered its first token (or `open_timeout`), calls
/// `held` while they are all open (and answers what it answered), then closes them all.
pub async fn hold<F, Fut, T>(
    client: &Client,
    target: &Target,
    count: usize,
    ramp: usize,
    open_timeout: Duration,
    held: F,
) -> (Held, T)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let opened = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(AtomicU64::new(0));
    let progress = Arc::new(Notify::new());
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    let batch = (ramp / 100).max(1);
    for i in 0..count {
        if i > 0 && i % batch == 0 {
            tokio::time::sleep_until(
                (started + Duration::from_millis((i / batch) as u64 * 10)).into(),
            )
            .await;
        }
        let shared = (
            client.clone(),
            target.clone(),
            Arc::clone(&opened),
            Arc::clone(&failed),
            Arc::clone(&tokens),
            Arc::clone(&progress),
            Arc::clone(&first_error),
            stop_rx.clone(),
        );
        tasks.spawn(async move {
            let (client, target, opened, failed, tokens, progress, first_error, mut stop) = shared;
            let fail = |error: String| {
                failed.fetch_add(1, Ordering::AcqRel);
                if let Ok(mut first) = first_error.lock() {
                    first.get_or_insert(error);
                }
                progress.notify_one();
            };
            let response = tokio::select! {
                response = client.open(&target) => response,
                _ = stop.wait_for(|s| *s) => return,
            };
            let mut body = match response {
                Ok(response) => response.into_body(),
                Err(failure) => return fail(failure.to_string()),
            };
            let mut counter = TokenCounter::default();
            let mut seen = 0u64;
            loop {
                let frame = tokio::select! {
                    frame = body.frame() => frame,
                    _ = stop.wait_for(|s| *s) => return,
                };
                match frame {
                    Some(Ok(frame)) => {
                        let new = frame.data_ref().map_or(0, |d| counter.feed(d)) as u64;
                        if new > 0 {
                            if seen == 0 {
                                opened.fetch_add(1, Ordering::AcqRel);
                                progress.notify_one();
                            }
                            seen += new;
                            tokens.fetch_add(new, Ordering::Relaxed);
                        }
                    }
                    Some(Err(e)) => return fail(format!("stream broke: {e}")),
                    None => return fail("the stream ended while it should be held".to_owned()),
                }
            }
        });
    }
    let deadline = started + open_timeout;
    loop {
        let wait = progress.notified();
        let done = opened.load(Ordering::Acquire) + failed.load(Ordering::Acquire);
        if done >= count || Instant::now() >= deadline {
            break;
        }
        let _ = tokio::time::timeout_at(deadline.into(), wait).await;
    }
    let open_time = started.elapsed();
    let before = tokens.load(Ordering::Relaxed);
    let answer = held().await;
    let tokens_while_held = tokens.load(Ordering::Relaxed) - before;
    let _ = stop_tx.send(true);
    let closing = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(10), closing)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    let first_error = first_error.lock().ok().and_then(|e| e.clone());
    let held = Held {
        opened: opened.load(Ordering::Acquire),
        failed: failed.load(Ordering::Acquire),
        first_error,
        open_time,
        tokens_while_held,
    };
    (held, answer)
}
