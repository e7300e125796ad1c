//! Operations (API.md, Operations and Running it): `/healthz` and `/readyz` without auth,
//! `/metrics` behind the `read` scope in Prometheus text, the one ready line on stdout, and a
//! graceful exit 0 on SIGTERM.

#![allow(clippy::unwrap_used)]

mod e2e;

use e2e::{assert_error, assert_error_shape, chat, ServerOptions, TestServer};

#[tokio::test]
async fn health_and_readiness_need_no_token() {
    let server = TestServer::start(ServerOptions::new()).await;
    // Before any token exists, and after.
    for first in [true, false] {
        for path in ["/healthz", "/readyz"] {
            let resp = server.anon().get(path).await;
            assert_eq!(resp.status, 200, "{resp}");
        }
        if first {
            server.bootstrap_admin_token().await;
        }
    }
}

#[tokio::test]
async fn metrics_need_read_scope_and_count_requests() {
    let server = TestServer::start(
        ServerOptions::new().env("OPENAI_API_KEY", "sk-test-openai-metrics-0001"),
    )
    .await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let (_, read) = api.create_token("prometheus", &["read"], None).await;
    let (_, chat_token) = api.create_token("bot", &["chat"], None).await;
    server
        .api(&chat_token)
        .post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
        .await
        .expect(200);

    assert_error(
        &server.anon().get("/metrics").await,
        401,
        "Missing or invalid API token",
    );
    assert_error_shape(&server.api(&chat_token).get("/metrics").await, 403);

    let resp = server.api(&read).get("/metrics").await;
    resp.expect(200);
    assert_eq!(
        resp.content_type(),
        "text/plain",
        "Prometheus text format: {resp}"
    );
    let text = &resp.text;
    let counters: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("# TYPE ") && l.ends_with(" counter"))
        .collect();
    assert!(!counters.is_empty(), "no counter declared:\n{text}");
    let request_counter = counters
        .iter()
        .filter_map(|l| l.split_whitespace().nth(2))
        .find(|name| name.contains("request"))
        .unwrap_or_else(|| panic!("no request counter among {counters:?}"));
    let samples: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(request_counter))
        .collect();
    assert!(
        !samples.is_empty(),
        "{request_counter} has no sample:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| !l.starts_with('#') && l.contains("openai")),
        "the chat through openai shows per provider:\n{text}"
    );
    assert!(text.contains("_bucket{"), "latency histograms:\n{text}");
}

#[tokio::test]
async fn stdout_has_one_ready_line_and_sigterm_exits_0() {
    let mut server = TestServer::start(ServerOptions::new()).await;
    let url = server.url().to_owned();
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .expect("bound to 127.0.0.1")
        .parse()
        .unwrap();
    assert_ne!(port, 0, "the real port, not the 0 asked for");
    server.anon().get("/healthz").await.expect(200);

    let status = server.stop().await;
    assert!(
        status.success(),
        "SIGTERM is a graceful exit 0, got {status}\n{}",
        server.logs()
    );
    assert_eq!(
        server.stdout(),
        format!("moxxy listening on {url}\n"),
        "stdout holds the one ready line"
    );
    assert!(
        std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err(),
        "the port is closed after exit"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let mut ids = Vec::new();
    for resp in [
        api.get("/v1/providers").await,
        api.get("/v1/tokens").await,
        api.get("/v1/providers/nope").await,
        server.anon().get("/v1/providers").await,
    ] {
        ids.push(e2e::assert_request_id(&resp));
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "one id per request: {ids:?}");
}
