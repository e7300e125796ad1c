//! Moxxy's own overhead, made visible: `x-moxxy-overhead-ms` on every successful completion of
//! both compatible endpoints, streamed or not, and the `moxxy_overhead_seconds` histogram of
//! `/metrics` observing each one.
//!
//! No speed is asserted, only what holds by definition: the header is a number of milliseconds,
//! never negative, and the overhead plus the upstream's own delay fit inside the time the client
//! waited for the response head — which fails if the upstream's time were not taken off.

#![allow(clippy::unwrap_used)]

mod e2e;

use std::time::{Duration, Instant};

use e2e::{chat, chat_stream, ServerOptions, TestServer};
use moxxy_fake_upstream::{Canned, FakeUpstream};
use reqwest::Method;
use serde_json::{json, Value};

const HEADER: &str = "x-moxxy-overhead-ms";
/// How long the fake upstream waits before answering (before the headers, for a stream).
const UPSTREAM_DELAY: Duration = Duration::from_millis(300);

/// A server whose built-ins all point at a fake that answers after [`UPSTREAM_DELAY`], and an
/// admin token.
async fn start() -> (TestServer, String) {
    let fake = FakeUpstream::start().await.unwrap();
    let canned = Canned {
        delay: UPSTREAM_DELAY,
        ..Canned::default()
    };
    canned.install(&fake);
    let server = TestServer::start(
        ServerOptions::new()
            .upstream(&fake)
            .env("OPENAI_API_KEY", "sk-test-openai-overhead-0001")
            .env("ANTHROPIC_API_KEY", "sk-ant-test-overhead-0001"),
    )
    .await;
    let admin = server.bootstrap_admin_token().await;
    (server, admin)
}

/// What one request showed: the overhead header, and how long the response head took.
struct Seen {
    overhead_ms: Option<String>,
    head_after: Duration,
    status: u16,
}

/// POSTs `body` to `path`, timing the response head, and reads the body to its end.
async fn send(server: &TestServer, token: &str, path: &str, body: &Value) -> Seen {
    let request = server.api(token).request(Method::POST, path).json(body);
    let started = Instant::now();
    let response = request.send().await.unwrap();
    let head_after = started.elapsed();
    let status = response.status().as_u16();
    let overhead_ms = response
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    response.bytes().await.unwrap();
    Seen {
        overhead_ms,
        head_after,
        status,
    }
}

/// The header parses as a non-negative number of milliseconds, and it plus the upstream's delay
/// is no more than the client's wait for the head.
fn assert_overhead(seen: &Seen, what: &str) {
    assert_eq!(seen.status, 200, "{what}");
    let text = seen
        .overhead_ms
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: no {HEADER} header"));
    let overhead: f64 = text
        .parse()
        .unwrap_or_else(|_| panic!("{what}: {HEADER} is not a number: {text:?}"));
    assert!(
        overhead.is_finite() && overhead >= 0.0,
        "{what}: {HEADER} {overhead}"
    );
    let total_ms = seen.head_after.as_secs_f64() * 1e3;
    let upstream_ms = UPSTREAM_DELAY.as_secs_f64() * 1e3;
    assert!(
        overhead + upstream_ms <= total_ms,
        "{what}: overhead {overhead} ms + upstream {upstream_ms} ms > the client's {total_ms} ms: \
         the upstream's time was not taken off"
    );
}

fn messages_body(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": stream,
    })
}

#[tokio::test]
async fn both_endpoints_report_their_overhead_streamed_or_not() {
    let (server, admin) = start().await;
    for model in ["openai/gpt-4.1", "anthropic/claude-sonnet-4-5"] {
        let plain = send(&server, &admin, "/v1/chat/completions", &chat(model, "hi")).await;
        assert_overhead(&plain, &format!("chat completion via {model}"));
        let body = chat_stream(model, "hi", true);
        let streamed = send(&server, &admin, "/v1/chat/completions", &body).await;
        assert_overhead(&streamed, &format!("streamed chat completion via {model}"));
        for stream in [false, true] {
            let body = messages_body(model, stream);
            let seen = send(&server, &admin, "/v1/messages", &body).await;
            assert_overhead(&seen, &format!("/v1/messages via {model}, stream {stream}"));
        }
    }
}

#[tokio::test]
async fn a_failed_completion_reports_no_overhead() {
    let (server, admin) = start().await;
    let seen = send(
        &server,
        &admin,
        "/v1/chat/completions",
        &chat("nobody/offers-this", "hi"),
    )
    .await;
    assert_eq!(seen.status, 404);
    assert_eq!(seen.overhead_ms, None, "an error has no upstream time");
}

/// The `_count` of the overhead histogram for one route and mode (0 before the first).
fn observed(metrics: &str, route: &str, mode: &str) -> u64 {
    let route = format!("route=\"{route}\"");
    let mode = format!("mode=\"{mode}\"");
    metrics
        .lines()
        .filter(|l| l.starts_with("moxxy_overhead_seconds_count{"))
        .filter(|l| l.contains(&route) && l.contains(&mode))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[tokio::test]
async fn the_overhead_histogram_observes_every_completion() {
    let (server, admin) = start().await;
    let api = server.api(&admin);
    let before = api.get("/metrics").await.expect(200).text.clone();
    let model = "openai/gpt-4.1";
    for _ in 0..3 {
        let seen = send(&server, &admin, "/v1/chat/completions", &chat(model, "hi")).await;
        assert_eq!(seen.status, 200);
    }
    let body = chat_stream(model, "hi", false);
    for _ in 0..2 {
        let seen = send(&server, &admin, "/v1/chat/completions", &body).await;
        assert_eq!(seen.status, 200);
    }
    let seen = send(&server, &admin, "/v1/messages", &messages_body(model, true)).await;
    assert_eq!(seen.status, 200);
    let after = api.get("/metrics").await.expect(200).text.clone();

    let grown =
        |route: &str, mode: &str| observed(&after, route, mode) - observed(&before, route, mode);
    assert_eq!(grown("/v1/chat/completions", "complete"), 3, "{after}");
    assert_eq!(grown("/v1/chat/completions", "stream"), 2, "{after}");
    assert_eq!(grown("/v1/messages", "stream"), 1, "{after}");
    assert_eq!(grown("/v1/messages", "complete"), 0, "{after}");
    assert!(
        after.contains("# TYPE moxxy_overhead_seconds histogram"),
        "declared as a histogram:\n{after}"
    );
    assert!(
        after
            .lines()
            .any(|l| l.starts_with("moxxy_overhead_seconds_bucket{") && l.contains("le=\"+Inf\"")),
        "with buckets:\n{after}"
    );
}
