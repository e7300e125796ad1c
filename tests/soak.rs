//! The soak (issue 7, load and back-pressure): thousands of concurrent streams and slow clients
//! through the real binary, against paced fake upstreams on loopback.
//!
//! 1. **Slow clients.** A few clients ask for a large stream (16 MiB each, sent by the upstream as
//!    fast as it is taken) and then read it very slowly or not at all. The server's resident
//!    memory must not grow by anything like what they were sent: back-pressure reaches the
//!    upstream, nothing buffers a whole answer.
//! 2. **Load.** With the slow clients still held, `MOXXY_SOAK_STREAMS` clients (2,000 by default)
//!    each stream completions one after the other for `MOXXY_SOAK_SECONDS` (20 by default), every
//!    stream paced by the upstream over a few seconds and read whole. Meanwhile `/healthz` is
//!    asked on a fresh connection every 250 ms and must answer, each within 5 s and half of them
//!    within 1 s (liveness bounds, not speed targets), and slowloris clients (headers a byte a second; a body a byte a second) must
//!    be disconnected within a bound: actix's 5 s for headers, `server.body_timeout_s` (5 s here)
//!    for a body, which gets the documented 408.
//! 3. **After.** Every client closed and the upstreams' idle keep-alive connections closed (as an
//!    upstream does after its idle timeout), the server's descriptors return to what it held
//!    before the load, give or take a few; and it still exits 0 on SIGTERM.
//!
//! The long soak is the same test, larger (README, *Soak*):
//! `MOXXY_SOAK_STREAMS=10000 MOXXY_SOAK_SECONDS=120 cargo test --release --test soak -- --nocapture`.

#![allow(clippy::unwrap_used)]

#[path = "soak/clients.rs"]
mod clients;
mod e2e;
#[path = "soak/procfs.rs"]
mod procfs;
#[path = "soak/slowloris.rs"]
mod slowloris;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clients::{SlowClient, Streams, Tally};
use e2e::{ServerOptions, TestServer};
use moxxy_fake_upstream::{openai, FakeUpstream, Options, Reply};
use procfs::mib;
use tokio::time::Instant;

/// Chunks of one paced stream, and the pause between two: a stream lasts about 6 s, and 2,000
/// of them carry 2,000 chunks a second, which a debug build on two shared cores relays with room
/// to spare (the test is about holding streams, not about throughput).
const PACED_CHUNKS: usize = 6;
const PACE: Duration = Duration::from_secs(1);
/// Slow clients of each kind (not reading; reading 1 KiB every 250 ms), and the size of the
/// stream each asks for.
const NON_READERS: usize = 8;
const SLOW_READERS: usize = 8;
const BIG_CHUNK: usize = 16 * 1024;
const BIG_CHUNKS: usize = 1024;
/// Slowloris clients of each kind.
const SLOWLORIS: usize = 10;
/// The server's body timeout in this test, and actix's for headers.
const BODY_TIMEOUT: Duration = Duration::from_secs(5);
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The liveness bound on every `/healthz` under full load, and on their median. Bounds, not
/// speed targets: a server whose workers block, or that queues health checks behind thousands
/// of streams, misses them by far; a CI machine shared with other jobs does not.
const HEALTHZ_BOUND: Duration = Duration::from_secs(5);
const HEALTHZ_MEDIAN_BOUND: Duration = Duration::from_secs(1);
/// Slack on the slowloris bounds for a loaded machine.
const CUT_SLACK: Duration = Duration::from_secs(10);
/// Descriptors the server may hold after the run beyond what it held before (a log file
/// rotated, a timer): a leak of one per stream would be thousands.
const FD_SLACK: usize = 16;

const OPENAI_KEY: &str = "sk-test-soak-openai-000000001";
const BIG_KEY: &str = "test-soak-big-upstream-key-01";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn words(n: usize, width: usize) -> Vec<String> {
    (0..n).map(|i| format!("w{i:0width$}")).collect()
}

fn refs(words: &[String]) -> Vec<&str> {
    words.iter().map(String::as_str).collect()
}

/// A fake that keeps no record of requests (it would grow with the load).
async fn fake(reply: impl Into<Reply>) -> FakeUpstream {
    let options = Options {
        record_requests: false,
        ..Options::default()
    };
    let fake = FakeUpstream::start_with(options).await.unwrap();
    fake.set_default("/v1/chat/completions", reply);
    fake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_streams_and_slow_clients_leave_memory_and_descriptors_bounded() {
    let fd_limit = procfs::raise_fd_limit();
    // Each stream costs two descriptors in the server and two here (client and fake).
    let fit = usize::try_from(fd_limit.saturating_sub(512) / 2).unwrap_or(usize::MAX);
    let asked = env_number("MOXXY_SOAK_STREAMS", 2_000);
    let streams = asked.min(fit).max(1);
    let seconds = env_number("MOXXY_SOAK_SECONDS", 20).max(5) as u64;
    if streams < asked {
        println!("RLIMIT_NOFILE {fd_limit} fits {streams} streams, not {asked}: running {streams}");
    }

    let paced_words = words(PACED_CHUNKS, 2);
    let paced = fake(
        Reply::sse(openai::stream_text(
            "gpt-4.1-mini",
            &refs(&paced_words),
            None,
        ))
        .pause(PACE),
    )
    .await;
    let big_words = words(BIG_CHUNKS, BIG_CHUNK - 1);
    let big_bytes = (BIG_CHUNKS * BIG_CHUNK) as u64;
    let big = fake(Reply::sse(openai::stream_text(
        "big1",
        &refs(&big_words),
        None,
    )))
    .await;

    let mut server = TestServer::start(
        ServerOptions::new()
            .upstream(&paced)
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .rust_log("warn")
            .config(&format!(
                "[server]\nbody_timeout_s = {}\n",
                BODY_TIMEOUT.as_secs()
            )),
    )
    .await;
    let pid = server.pid().unwrap();
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let big_url = format!("{}/v1", big.url());
    api.post(
        "/v1/providers",
        e2e::provider("big", &big_url, BIG_KEY, &["big1"]),
    )
    .await
    .expect(201);
    let base = server.url().to_owned();
    let addr = base.trim_start_matches("http://").to_owned();
    let url = format!("{base}/v1/chat/completions");
    let paced_body = e2e::chat_stream("openai/gpt-4.1-mini", "Talk.", false);
    let big_body = e2e::chat_stream("big/big1", "Talk a lot.", false);

    // A stream of each kind first, so what is set up once (pools, caches) is in the baseline.
    let client = reqwest::Client::new();
    let warm = clients::one_stream(&client, &url, &admin, &paced_body)
        .await
        .unwrap();
    assert!(warm.ends_with("data: [DONE]\n\n"), "{warm}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_base = procfs::rss_bytes(pid);
    let fds_base = procfs::open_fds(pid);

    // 1. Slow clients on 16 MiB streams.
    let raw_big = clients::raw_request(&admin, &big_body);
    let mut slow = Vec::new();
    for i in 0..NON_READERS + SLOW_READERS {
        let per_tick = if i < NON_READERS { 0 } else { 1024 };
        slow.push(SlowClient::open(&addr, &raw_big, per_tick, Duration::from_millis(250)).await);
    }
    // Until the server stops working: the upstream has pushed all it can and the server has
    // taken all it would (all of it, if it buffered; a debug build needs a while for 256 MiB).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let settled = procfs::settle(pid, Duration::from_secs(60)).await;
    let rss_slow = procfs::rss_bytes(pid);
    let sent_to_slow = big_bytes * slow.len() as u64;
    let slow_growth = rss_slow.saturating_sub(rss_base);
    let slow_read: usize = slow.iter().map(SlowClient::read).sum();
    println!(
        "slow clients: {} asked for {:.0} MiB in all, read {:.2} MiB; server idle after {settled:.1?}, RSS {:.1} -> {:.1} MiB (+{:.1})",
        slow.len(),
        mib(sent_to_slow),
        mib(slow_read as u64),
        mib(rss_base),
        mib(rss_slow),
        mib(slow_growth)
    );
    assert!(
        slow_growth < sent_to_slow / 8,
        "slow clients made the server grow by {:.1} MiB: it buffers what they do not read",
        mib(slow_growth)
    );

    // 2. The load, with the slow clients still held.
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let peak = procfs::PeakRss::start(pid, Duration::from_millis(200));
    let health = clients::health_probe(
        addr.clone(),
        Duration::from_millis(250),
        Duration::from_secs(seconds),
    );
    let tally = Arc::new(Tally::default());
    let ramp = Duration::from_secs(4);
    let paced_streams = Arc::new(Streams {
        client: client.clone(),
        url: url.clone(),
        token: admin.clone(),
        body: paced_body.clone(),
        words: PACED_CHUNKS,
    });
    let mut loops = Vec::with_capacity(streams);
    for i in 0..streams {
        let start = started + ramp.mul_f64(i as f64 / streams as f64);
        let tally = Arc::clone(&tally);
        loops.push(clients::stream_loop(
            Arc::clone(&paced_streams),
            start,
            until,
            tally,
        ));
    }
    // Slowloris clients arrive once the load is up.
    tokio::time::sleep(ramp).await;
    let mut loris = Vec::new();
    for _ in 0..SLOWLORIS {
        let to = addr.clone();
        loris.push((
            "headers",
            tokio::spawn(async move { slowloris::headers(&to).await }),
        ));
        let (to, token) = (addr.clone(), admin.clone());
        loris.push((
            "body",
            tokio::spawn(async move { slowloris::body(&to, &token).await }),
        ));
    }
    let mut cuts = Vec::new();
    for (kind, task) in loris {
        cuts.push((kind, task.await.unwrap()));
    }
    for task in loops {
        task.await.unwrap();
    }
    let load_took = started.elapsed();
    let rss_peak = peak.finish().await;
    let probes = health.join().unwrap();

    let complete = tally.complete.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    let mut answered: Vec<Duration> = probes.iter().flatten().copied().collect();
    answered.sort();
    let slowest = answered.last().copied().unwrap_or_default();
    let median = answered
        .get(answered.len() / 2)
        .copied()
        .unwrap_or_default();
    println!(
        "load: {streams} concurrent clients for {load_took:.1?}: {complete} streams complete, {failed} failed"
    );
    println!(
        "RSS: baseline {:.1} MiB, with slow clients {:.1} MiB, peak under load {:.1} MiB",
        mib(rss_base),
        mib(rss_slow),
        mib(rss_peak)
    );
    println!(
        "/healthz under load: {} asked, {} answered, median {median:?}, slowest {slowest:?}",
        probes.len(),
        answered.len()
    );
    for kind in ["headers", "body"] {
        let of_kind = cuts.iter().filter(|(k, _)| *k == kind).map(|(_, cut)| cut);
        let times: Vec<String> = of_kind
            .map(|cut| format!("{:?}/{:?}", cut.answered, cut.after))
            .collect();
        println!(
            "slowloris ({kind}), answered/closed after: {}",
            times.join(", ")
        );
    }
    for (kind, cut) in &cuts {
        let bound = match *kind {
            "headers" => HEADER_TIMEOUT,
            _ => BODY_TIMEOUT,
        } + CUT_SLACK;
        let after = cut.after.unwrap_or_else(|| {
            panic!(
                "a slowloris client ({kind}) was never disconnected:\n{}",
                cut.answer
            )
        });
        assert!(
            after < bound,
            "a slowloris client ({kind}) held on for {after:?}"
        );
        assert!(
            cut.answer.starts_with("HTTP/1.1 408"),
            "a slowloris client ({kind}) got:\n{}",
            cut.answer
        );
        if *kind == "body" {
            let message = format!(
                "The request body did not arrive within {} s",
                BODY_TIMEOUT.as_secs()
            );
            assert!(cut.answer.contains(&message), "{}", cut.answer);
        }
    }
    assert_eq!(failed, 0, "streams failed under load");
    assert!(
        complete >= streams,
        "{complete} streams for {streams} clients"
    );
    assert_eq!(
        answered.len(),
        probes.len(),
        "/healthz failed under load: {probes:?}"
    );
    assert!(!probes.is_empty());
    assert!(
        slowest < HEALTHZ_BOUND,
        "/healthz took {slowest:?} under load"
    );
    assert!(
        median < HEALTHZ_MEDIAN_BOUND,
        "/healthz took {median:?} (median) under load"
    );
    let per_stream = rss_peak.saturating_sub(rss_base) / streams as u64;
    println!(
        "peak RSS per concurrent stream: {:.1} KiB",
        per_stream as f64 / 1024.0
    );
    assert!(
        per_stream < 256 * 1024,
        "{:.1} KiB of RSS per concurrent stream",
        per_stream as f64 / 1024.0
    );

    // 3. Everything closed: descriptors back to the baseline.
    drop(slow);
    drop(client);
    drop(paced_streams);
    paced.shutdown();
    big.shutdown();
    let settle = Instant::now() + Duration::from_secs(20);
    let fds_after = loop {
        let fds = procfs::open_fds(pid);
        if fds <= fds_base + FD_SLACK || Instant::now() > settle {
            break fds;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let rss_after = procfs::rss_bytes(pid);
    println!(
        "after: fds {fds_base} before, {fds_after} after; RSS {:.1} MiB",
        mib(rss_after)
    );
    assert!(
        fds_after <= fds_base + FD_SLACK,
        "the server holds {fds_after} descriptors after the run, {fds_base} before"
    );
    server.anon().get("/healthz").await.expect(200);
    let status = server.stop().await;
    assert!(status.success(), "exit {status}");
}
