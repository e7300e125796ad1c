//! Graceful shutdown (issue 7): SIGTERM with streams in flight, against the real binary.
//!
//! One server holds, when SIGTERM comes, a stream of every kind that outlasts the grace period
//! (`/v1/chat/completions`, `/v1/messages`, an agent turn — each paced over a minute by the
//! fake), the same kinds that end within it, and a non-streamed completion whose upstream takes a
//! minute. The test checks that:
//!
//! - new connections are refused once the signal is handled, and a request on a connection
//!   opened before it is not served (503 or closed, never a 200);
//! - the short streams finish whole (`[DONE]`, `message_stop`, `done`);
//! - the long ones end after the grace period, not before, with the documented error event in
//!   their client's protocol (an OpenAI error chunk and no `[DONE]`; Anthropic's `event: error`;
//!   the agent's `error` event), never a bare cut; the non-streamed one gets a 503 in the API's
//!   error shape; the upstream sees each of these requests dropped;
//! - the process exits 0 within the bound (grace period + the server's margin);
//! - after a restart on the same data directory, the short agent turn is stored whole and the
//!   cut one is an incomplete turn (its user message, marked `incomplete`).
//!
//! Also: `server.shutdown_grace_s` and `server.body_timeout_s` are checked like every config
//! number (a huge value is an error naming the key, not a panic).

#![allow(clippy::unwrap_used)]

mod e2e;

use std::time::{Duration, Instant};

use e2e::{ServerOptions, TestServer};
use futures_util::StreamExt;
use moxxy_fake_upstream::{anthropic, openai, FakeUpstream, Reply};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The grace period the server is configured with.
const GRACE: Duration = Duration::from_secs(4);
/// The server's own margin after the grace period before it drops connections (src/server.rs).
const MARGIN: Duration = Duration::from_secs(5);
/// Slack for a loaded CI machine on top of the bounds above; bounds, not speed assertions.
const SLACK: Duration = Duration::from_secs(5);
/// The pause between two chunks of every scripted stream.
const PAUSE: Duration = Duration::from_millis(100);
/// Chunks of a long stream: a minute at `PAUSE`, far beyond the grace period.
const LONG_CHUNKS: usize = 600;
/// Chunks of a short stream: 1.5 s, well within the grace period.
const SHORT_CHUNKS: usize = 15;
/// The documented message of a request ended by the shutdown.
const SHUTTING_DOWN: &str = "The server is shutting down - retry the request";

const OPENAI_KEY: &str = "sk-test-shutdown-openai-0001";
const ANTHROPIC_KEY: &str = "sk-ant-test-shutdown-0001";
const QUICK_KEY: &str = "test-shutdown-quick-key-0001";

fn words(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("w{i} ")).collect()
}

fn refs(words: &[String]) -> Vec<&str> {
    words.iter().map(String::as_str).collect()
}

/// A stream being read to its end in the background.
struct Reading {
    path: &'static str,
    task: tokio::task::JoinHandle<Read>,
}

/// What a stream delivered, and how it ended.
struct Read {
    text: String,
    ended: Instant,
    /// The body broke off (a transport error) instead of ending.
    broken: Option<String>,
}

/// Sends `body` to `path`, waits for the 200 and the first chunk (the stream is under way), then
/// reads the rest in the background.
async fn open_stream(base: &str, token: &str, path: &'static str, body: Value) -> Reading {
    let resp = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}: {:?}", resp.text().await);
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    let mut text = String::from_utf8_lossy(&first).into_owned();
    let task = tokio::spawn(async move {
        let mut broken = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
                Err(e) => {
                    broken = Some(format!("{e:?}"));
                    break;
                }
            }
        }
        Read {
            text,
            ended: Instant::now(),
            broken,
        }
    });
    Reading { path, task }
}

/// The server's config: the grace period, and an agent on the OpenAI fake.
fn config() -> String {
    format!(
        "[server]\nshutdown_grace_s = {}\n\n[[personas]]\nname = \"scribe\"\nmodel = \"openai/gpt-4.1-mini\"\n",
        GRACE.as_secs()
    )
}

/// The fake of the built-ins: a minute-long stream on both protocols, and a non-streamed
/// OpenAI answer that takes a minute.
async fn slow_fake() -> FakeUpstream {
    let fake = FakeUpstream::start().await.unwrap();
    let long = words(LONG_CHUNKS);
    let stream = Reply::sse(openai::stream_text("gpt-4.1-mini", &refs(&long), None)).pause(PAUSE);
    let plain = Reply::delay(
        Duration::from_secs(60),
        openai::reply(openai::completion("late", openai::Usage::new(2, 1))),
    );
    fake.set_default("/v1/chat/completions", Reply::if_stream(stream, plain));
    let messages = anthropic::stream_text("claude-sonnet-4-5", &refs(&long));
    fake.set_default("/v1/messages", Reply::sse(messages).pause(PAUSE));
    fake
}

/// A second fake, for the `quick` provider: streams that end within the grace period.
async fn quick_fake() -> FakeUpstream {
    let fake = FakeUpstream::start().await.unwrap();
    let short = words(SHORT_CHUNKS);
    let stream = Reply::sse(openai::stream_text("q1", &refs(&short), None)).pause(PAUSE);
    fake.set_default("/v1/chat/completions", stream);
    fake
}

/// Waits until the fake has seen `n` requests on `path` (they are in flight there).
async fn wait_requests(fake: &FakeUpstream, path: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.request_count(path) < n {
        assert!(
            Instant::now() < deadline,
            "the fake saw {} of {n} requests on {path}",
            fake.request_count(path)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sigterm(server: &TestServer) {
    let pid = libc::pid_t::try_from(server.pid().unwrap()).unwrap();
    // SAFETY: `kill` has no memory effects; `pid` is our own running child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
}

/// A keep-alive connection that has served one request.
async fn warm_connection(addr: &str) -> TcpStream {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let head = read_response(&mut conn, "GET /healthz HTTP/1.1\r\nHost: moxxy\r\n\r\n").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    conn
}

/// Writes `request` and reads what comes back until the response's body is in, the
/// connection closes, or 5 s pass.
async fn read_response(conn: &mut TcpStream, request: &str) -> String {
    if conn.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if length.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_refuses_new_requests_ends_streams_with_error_events_and_flushes() {
    let slow = slow_fake().await;
    let quick = quick_fake().await;
    let mut server = TestServer::start(
        ServerOptions::new()
            .upstream(&slow)
            .config(&config())
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
    )
    .await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let quick_url = format!("{}/v1", quick.url());
    api.post(
        "/v1/providers",
        e2e::provider("quick", &quick_url, QUICK_KEY, &["q1"]),
    )
    .await
    .expect(201);
    api.post("/v1/agents", json!({"name": "brief", "model": "quick/q1"}))
        .await
        .expect(201);
    let base = server.url().to_owned();
    let addr = base.trim_start_matches("http://").to_owned();

    // In flight when the signal comes: three long streams, three short ones, one slow answer.
    let chat = |model: &str| e2e::chat_stream(model, "Talk.", false);
    let anthropic_body = json!({
        "model": "anthropic/claude-sonnet-4-5", "max_tokens": 64, "stream": true,
        "messages": [{"role": "user", "content": "Talk."}],
    });
    let turn = json!({"content": "Talk.", "stream": true});
    let long = vec![
        open_stream(
            &base,
            &admin,
            "/v1/chat/completions",
            chat("openai/gpt-4.1-mini"),
        )
        .await,
        open_stream(&base, &admin, "/v1/messages", anthropic_body).await,
        open_stream(&base, &admin, "/v1/agents/scribe/messages", turn.clone()).await,
    ];
    let plain = {
        let api = server.api(&admin);
        tokio::spawn(async move {
            let resp = api
                .post(
                    "/v1/chat/completions",
                    e2e::chat("openai/gpt-4.1-mini", "Wait."),
                )
                .await;
            (resp, Instant::now())
        })
    };
    let short = vec![
        open_stream(&base, &admin, "/v1/chat/completions", chat("quick/q1")).await,
        open_stream(&base, &admin, "/v1/agents/brief/messages", turn).await,
    ];
    wait_requests(&slow, "/v1/chat/completions", 3).await;
    let mut idle = warm_connection(&addr).await;

    let signalled = Instant::now();
    sigterm(&server);

    // New connections are refused once the signal is handled (a bound, not a speed).
    let refused = loop {
        match TcpStream::connect(&addr).await {
            Err(e) => break e,
            Ok(mut conn) => {
                let answer =
                    read_response(&mut conn, "GET /healthz HTTP/1.1\r\nHost: moxxy\r\n\r\n").await;
                assert!(
                    !answer.starts_with("HTTP/1.1 200")
                        || signalled.elapsed() < Duration::from_secs(1),
                    "a new connection is still served {:?} after SIGTERM:\n{answer}",
                    signalled.elapsed()
                );
            }
        }
        assert!(
            signalled.elapsed() < SLACK,
            "the listener still accepts {SLACK:?} after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{refused}"
    );
    // A connection opened before the signal is not served again: 503 or closed.
    let again = read_response(&mut idle, "GET /healthz HTTP/1.1\r\nHost: moxxy\r\n\r\n").await;
    assert!(
        !again.starts_with("HTTP/1.1 200"),
        "a request on an open connection was served after SIGTERM:\n{again}"
    );
    if again.starts_with("HTTP/1.1 503") {
        assert!(again.contains(SHUTTING_DOWN), "{again}");
    }
    println!(
        "after SIGTERM: new connection {refused}; request on an open connection: {}",
        again.lines().next().unwrap_or("closed without an answer")
    );

    // The short streams finish whole.
    for reading in short {
        let read = reading.task.await.unwrap();
        assert!(read.broken.is_none(), "{}: {:?}", reading.path, read.broken);
        let events = e2e::sse_events(&read.text);
        let last = events.last().unwrap();
        match reading.path {
            "/v1/chat/completions" => assert_eq!(last.1, json!("[DONE]"), "{}", read.text),
            _ => assert_eq!(last.0, "done", "{}", read.text),
        }
        assert!(!read.text.contains(SHUTTING_DOWN), "{}", read.text);
    }

    // The long ones end with the error event in their protocol: after the grace period, within
    // the bound.
    let mut conversation_cut = String::new();
    for reading in long {
        let read = reading.task.await.unwrap();
        let path = reading.path;
        assert!(
            read.broken.is_none(),
            "{path} was cut bare: {:?}\n{}",
            read.broken,
            read.text
        );
        let after = read.ended.duration_since(signalled);
        assert!(
            after >= GRACE - Duration::from_millis(200),
            "{path} ended {after:?} after SIGTERM, before the grace period {GRACE:?}"
        );
        assert!(
            after < GRACE + SLACK,
            "{path} ended {after:?} after SIGTERM"
        );
        let events = e2e::sse_events(&read.text);
        let (name, data) = events.last().unwrap();
        match path {
            "/v1/chat/completions" => {
                assert_eq!(name, "", "{}", read.text);
                assert_eq!(data["error"]["message"], SHUTTING_DOWN, "{}", read.text);
                assert!(
                    !read.text.contains("[DONE]"),
                    "a cut answer is not complete"
                );
            }
            "/v1/messages" => {
                assert_eq!(name, "error", "{}", read.text);
                assert_eq!(data["type"], "error");
                assert_eq!(data["error"]["message"], SHUTTING_DOWN, "{}", read.text);
                assert!(!read.text.contains("message_stop"));
            }
            _ => {
                assert_eq!(name, "error", "{}", read.text);
                assert_eq!(data["error"]["message"], SHUTTING_DOWN, "{}", read.text);
                assert!(data["error"]["request_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("req_")));
                assert!(events.iter().all(|(name, _)| name != "done"));
                conversation_cut = events[0].1["conversation_id"].as_str().unwrap().to_owned();
            }
        }
        println!("{path}: error event {after:?} after SIGTERM");
    }

    // The non-streamed answer still waiting upstream gets a 503 in the API's shape.
    let (resp, answered) = plain.await.unwrap();
    e2e::assert_error(&resp, 503, SHUTTING_DOWN);
    let after = answered.duration_since(signalled);
    assert!(
        after >= GRACE - Duration::from_millis(200) && after < GRACE + SLACK,
        "{after:?}"
    );

    // Exit 0 within the bound; each request cut short was dropped upstream too.
    let status = server.stop().await;
    let exited = signalled.elapsed();
    assert!(status.success(), "exit {status}\n{}", server.logs());
    assert!(
        exited < GRACE + MARGIN + SLACK,
        "exited {exited:?} after SIGTERM"
    );
    println!("exited 0 {exited:?} after SIGTERM (grace {GRACE:?})");
    let dropped = || slow.aborted_streams() + slow.abandoned_replies();
    let deadline = Instant::now() + SLACK;
    while dropped() < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        dropped(),
        4,
        "requests the upstream saw dropped (3 streams, 1 answer)"
    );

    // The store was flushed: the whole turn is there; the cut one is incomplete.
    server.restart().await;
    let api = server.api(&admin);
    let list = api
        .get("/v1/agents/brief/conversations")
        .await
        .expect(200)
        .json();
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    let whole = api
        .get(&format!("/v1/agents/brief/conversations/{id}"))
        .await
        .expect(200)
        .json();
    let roles: Vec<&str> = whole["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant"], "{whole}");
    let cut = api
        .get(&format!(
            "/v1/agents/scribe/conversations/{conversation_cut}"
        ))
        .await
        .expect(200)
        .json();
    let messages = cut["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{cut}");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["incomplete"], true, "{cut}");
}

#[test]
fn the_grace_period_and_body_timeout_are_checked_like_every_number() {
    for (key, value) in [
        ("shutdown_grace_s", "3601"),
        ("shutdown_grace_s", "9223372036854775807"),
        ("shutdown_grace_s", "-1"),
        ("body_timeout_s", "0"),
        ("body_timeout_s", "9223372036854775807"),
        ("body_timeout_s", "\"30\""),
    ] {
        let toml = format!("[server]\n{key} = {value}\n");
        let error = moxxy::config::from_toml_str(&toml, &|_| None)
            .expect_err(&toml)
            .to_string();
        assert!(error.contains(&format!("server.{key}")), "{toml}: {error}");
        assert!(error.contains("seconds"), "{toml}: {error}");
    }
    let toml = "[server]\nshutdown_grace_s = 0\nbody_timeout_s = 3600\n";
    let config = moxxy::config::from_toml_str(toml, &|_| None).unwrap();
    assert_eq!(config.server.shutdown_grace_s, 0);
    assert_eq!(config.server.body_timeout_s, 3600);
    let defaults = moxxy::config::Config::default();
    assert_eq!(defaults.server.shutdown_grace_s, 10);
    assert_eq!(defaults.server.body_timeout_s, 30);
}

/// The state of an in-process app whose shutdown has begun.
fn stopping_state(data: &std::path::Path) -> moxxy::api::AppState {
    use actix::Actor;
    let store = moxxy::store::Store::open(data).unwrap();
    let key = moxxy::vault::MasterKey::generate().unwrap();
    let shutdown = moxxy::shutdown::Shutdown::new(GRACE);
    shutdown.begin();
    moxxy::api::AppState {
        config: std::sync::Arc::new(moxxy::config::Config::default()),
        vault: moxxy::vault::Vault::new(key, store.clone()),
        store,
        supervisor: moxxy_actors::supervisor::ProviderSupervisor::new().start(),
        directory: moxxy::directory::Directory::new(),
        model_lists: moxxy::model_lists::ModelLists::new(),
        agents: moxxy::agents::Agents::new(),
        metrics: moxxy::api::metrics::Metrics::new(),
        env: std::sync::Arc::new(|_| None),
        started_at: std::time::Instant::now(),
        shutdown,
    }
}

/// A request that reaches the server after the signal (on a connection actix has not closed
/// yet) is refused with 503 in its endpoint's error shape, and its connection is closed; no
/// handler runs (no token is even looked at).
#[actix_web::test]
async fn a_request_after_the_signal_gets_503_in_its_endpoints_shape() {
    use actix_web::{test, web, App};
    let data = tempfile::tempdir().unwrap();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(stopping_state(data.path())))
            .wrap(actix_web::middleware::from_fn(
                moxxy::api::middleware::request_context,
            ))
            .configure(moxxy::api::configure),
    )
    .await;
    let cases = [
        test::TestRequest::get().uri("/healthz"),
        test::TestRequest::post()
            .uri("/v1/chat/completions")
            .set_json(e2e::chat_stream("openai/gpt-4.1-mini", "Hi.", false)),
        test::TestRequest::post()
            .uri("/v1/messages")
            .set_json(json!({"model": "sonnet", "max_tokens": 8, "messages": []})),
    ];
    for (i, req) in cases.into_iter().enumerate() {
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 503, "case {i}");
        let id = res
            .headers()
            .get("x-request-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            res.response().head().connection_type() == actix_web::http::ConnectionType::Close,
            "case {i}: the connection closes after the refusal"
        );
        let body: Value = test::read_body_json(res).await;
        if i == 2 {
            assert_eq!(body["type"], "error", "Anthropic's shape: {body}");
            assert_eq!(body["error"]["type"], "overloaded_error", "{body}");
            assert_eq!(body["error"]["message"], SHUTTING_DOWN, "{body}");
        } else {
            assert_eq!(body["error"]["message"], SHUTTING_DOWN, "{body}");
            assert_eq!(body["error"]["code"], "shutting_down", "{body}");
            assert_eq!(body["error"]["request_id"], id.as_str(), "{body}");
        }
    }
}
