//! The upstream faults matrix: every way an upstream can fail, for each protocol Moxxy speaks
//! upstream (OpenAI, Anthropic, Ollama), through both client endpoints (`/v1/chat/completions`
//! and `/v1/messages`), streamed and not.
//!
//! One table ([`FAULTS`]) lists the faults; [`expect`] says what each must give. For every
//! fault × protocol × endpoint × stream mode, a fresh app (real actix routes, real provider
//! actors, a fake upstream on loopback) is driven through the fault, and the test checks:
//!
//! - the client gets a clear error in its endpoint's documented shape (OpenAI's error object on
//!   `/v1/chat/completions`, Anthropic's on `/v1/messages`; an error event in the stream's own
//!   format once a stream has started), with the status and words the fault calls for;
//! - retries happen only where the rules allow (counted on the fake's record);
//! - the circuit opens after the failures that say the upstream is unwell, refuses without
//!   calling the upstream, and closes again after a successful probe;
//! - the provider keeps serving: a normal request succeeds afterwards;
//! - nothing hangs: every request ends within a bound, which fails the test rather than waits.
//!
//! Timeouts are short and configured per provider (stream idle 1 s, request 1 s where the
//! fault is a stall, circuit open 2 s), and the cases of one protocol run concurrently (each has its own fake, port and
//! provider), so the whole matrix takes seconds.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Actor;
use actix_web::{test, web, App};
use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use moxxy::api::AppState;
use moxxy::config::Config;
use moxxy::directory::{Directory, ProviderEntry};
use moxxy::store::Store;
use moxxy::vault::{MasterKey, Vault};
use moxxy_actors::provider::{Credentials, ProviderConfig, ProviderKind, Timeouts};
use moxxy_actors::retry::{CircuitConfig, RetryPolicy};
use moxxy_actors::supervisor::{ProviderSupervisor, Upsert};
use moxxy_actors::ApiKey;
use moxxy_fake_upstream::{anthropic, ollama, openai, FakeUpstream, Options, Reply, StreamReply};
use serde_json::{json, Value};

/// A test key: obviously fake.
const TEST_KEY: &str = "test-key-0123456789abcdef";
/// The model each provider offers.
const MODEL: &str = "m1";
/// Retries after the first attempt: three attempts in all.
const MAX_RETRIES: u32 = 2;
/// Consecutive unwell attempts that open the circuit: one fully retried request.
const CIRCUIT_THRESHOLD: u32 = 3;
/// Long enough that a busy machine still sees the circuit open right after the fault.
const CIRCUIT_OPEN_FOR: Duration = Duration::from_secs(2);
/// The request timeout of the stall case, which must fire.
const SHORT_TIMEOUT: Duration = Duration::from_secs(1);
/// The request timeout of every other case: reading a 64 MiB answer in a debug build on a busy
/// machine must not time out.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Long enough that a starved test thread does not time out a healthy stream.
const STREAM_IDLE: Duration = Duration::from_secs(1);
/// No request of this test may take longer: a fault that hangs fails here instead.
const BOUND: Duration = Duration::from_secs(60);
/// Huge cases running at once, across the three protocols' tests.
static HUGE_AT_ONCE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
/// The largest non-streamed answer read (actors/src/provider/transport.rs).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The upstream protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    OpenAi,
    Anthropic,
    Ollama,
}

impl Proto {
    fn kind(self) -> ProviderKind {
        match self {
            Proto::OpenAi => ProviderKind::OpenAi,
            Proto::Anthropic => ProviderKind::Anthropic,
            Proto::Ollama => ProviderKind::Ollama,
        }
    }

    fn id(self) -> &'static str {
        self.kind().as_str()
    }

    /// The completion path on the fake.
    fn path(self) -> &'static str {
        match self {
            Proto::OpenAi => "/v1/chat/completions",
            Proto::Anthropic => "/v1/messages",
            Proto::Ollama => "/api/chat",
        }
    }

    fn base_url(self, url: &str) -> String {
        match self {
            Proto::OpenAi => format!("{url}/v1"),
            _ => url.to_string(),
        }
    }

    /// A normal answer: "ok" plain, "Hello world" streamed.
    fn normal(self) -> Reply {
        match self {
            Proto::OpenAi => Reply::if_stream(
                Reply::sse(openai::stream_text(MODEL, &WORDS, None)),
                openai::reply(openai::completion("ok", openai::Usage::new(2, 1))),
            ),
            Proto::Anthropic => Reply::if_stream(
                Reply::sse(anthropic::stream_text(MODEL, &WORDS)),
                anthropic::reply(anthropic::message("ok", anthropic::Usage::new(2, 1))),
            ),
            Proto::Ollama => Reply::unless_stream_false(
                Reply::ndjson(ollama::stream_text(MODEL, &WORDS)),
                Reply::json(200, ollama::chat("ok", ollama::Usage::new(2, 1))),
            ),
        }
    }

    /// The chunks of the streamed answer, and how many of them carry text only once the cut
    /// or stall after `len - 2` chunks happens (so the stream has started, and has not ended).
    fn stream_chunks(self) -> Vec<Bytes> {
        match self {
            Proto::OpenAi => openai::stream_text(MODEL, &WORDS, None),
            Proto::Anthropic => anthropic::stream_text(MODEL, &WORDS),
            Proto::Ollama => ollama::stream_text(MODEL, &WORDS),
        }
    }

    fn stream_type(self) -> &'static str {
        match self {
            Proto::Ollama => "application/x-ndjson",
            _ => "text/event-stream",
        }
    }

    /// A 200 whose JSON body is the protocol's error object.
    fn error_in_200(self) -> Reply {
        match self {
            Proto::OpenAi => Reply::json(
                200,
                openai::error_body(
                    "server_error",
                    None,
                    "The server had an error processing your request",
                ),
            ),
            Proto::Anthropic => Reply::json(
                200,
                anthropic::error_body(
                    "api_error",
                    "The server had an error processing your request",
                ),
            ),
            Proto::Ollama => Reply::json(
                200,
                ollama::error_body("The server had an error processing your request"),
            ),
        }
    }

    /// A 429 saying to come back in 20 ms (and, in whole seconds, in 1 s).
    fn rate_limited(self) -> Reply {
        let reply = match self {
            Proto::OpenAi => {
                openai::error(429, "requests", Some("rate_limit_exceeded"), "Slow down")
            }
            Proto::Anthropic => anthropic::error(429, "rate_limit_error", "Slow down"),
            Proto::Ollama => ollama::error(429, "Slow down"),
        };
        reply
            .header("retry-after", "1")
            .header("retry-after-ms", "20")
    }
}

const WORDS: [&str; 4] = ["Hel", "lo", " wor", "ld"];

/// The client endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Messages,
}

/// The faults, as the upstream (or the network in front of it) shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Nothing listens at the provider's address.
    ConnectionRefused,
    /// The connection is reset before any response byte.
    ResetBeforeHeaders,
    /// A stream is cut (TCP reset) after some text reached the client.
    CutMidStream,
    /// A non-streamed body is cut half way (TCP reset).
    CutMidBody,
    /// A stream goes silent after some text: the idle timeout must end it.
    StallMidStream,
    /// Headers, then nothing: the request timeout must end it.
    StallBeforeAnswer,
    /// A 200 whose body is binary garbage.
    GarbageBytes,
    /// A proxy in front of the upstream answers 502 with an HTML page.
    HtmlErrorPage,
    /// A 200 whose JSON body is an error object.
    JsonErrorIn200,
    /// An answer larger than the 64 MiB limit (a stream: a line that never ends, after some text).
    Huge,
    /// 429 with Retry-After on every attempt.
    RateLimited,
}

/// Every fault, in the order the matrix runs them.
const FAULTS: [Fault; 11] = [
    Fault::ConnectionRefused,
    Fault::ResetBeforeHeaders,
    Fault::CutMidStream,
    Fault::CutMidBody,
    Fault::StallMidStream,
    Fault::StallBeforeAnswer,
    Fault::GarbageBytes,
    Fault::HtmlErrorPage,
    Fault::JsonErrorIn200,
    Fault::Huge,
    Fault::RateLimited,
];

impl Fault {
    /// Whether the fault applies to a streamed request, a plain one, or both.
    fn applies(self, stream: bool) -> bool {
        match self {
            Fault::CutMidStream | Fault::StallMidStream => stream,
            Fault::CutMidBody => !stream,
            _ => true,
        }
    }

    /// Scripts the fake for one faulty request (enough replies for every attempt).
    fn script(self, fake: &FakeUpstream, proto: Proto, stream: bool) {
        let path = proto.path();
        let every = |reply: Reply| fake.push_n(path, 1 + MAX_RETRIES as usize, reply);
        let chunks = proto.stream_chunks();
        let started = chunks.len() - 2;
        match self {
            Fault::ConnectionRefused => {}
            Fault::ResetBeforeHeaders => every(Reply::reset()),
            Fault::CutMidStream => {
                every(StreamReply::new(proto.stream_type(), chunks).cut_after(started).into())
            }
            Fault::CutMidBody => {
                let body = Bytes::from_static(br#"{"id":"x","model":"m1","choices":[{"mess"#);
                every(StreamReply::new("application/json", vec![body]).cut_after(1).into());
            }
            Fault::StallMidStream => {
                every(StreamReply::new(proto.stream_type(), chunks).stall_after(started).into())
            }
            Fault::StallBeforeAnswer => {
                let content_type = if stream { proto.stream_type() } else { "application/json" };
                every(StreamReply::new(content_type, chunks).stall_after(0).into());
            }
            Fault::GarbageBytes => {
                let content_type = if stream { proto.stream_type() } else { "application/json" };
                let garbage: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe{{{\n\n\x00";
                every(Reply::bytes(200, content_type, garbage));
            }
            Fault::HtmlErrorPage => every(Reply::bytes(
                502,
                "text/html",
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            )),
            Fault::JsonErrorIn200 => every(proto.error_in_200()),
            Fault::Huge if stream => {
                // Some text, then one line that never ends: the decoder must not buffer it all.
                let mut chunks = chunks;
                chunks.truncate(started);
                let mut line = b"data: ".to_vec();
                line.resize(MAX_RESPONSE_BYTES + 1024 * 1024, b'a');
                chunks.push(Bytes::from(line));
                every(StreamReply::new(proto.stream_type(), chunks).into());
            }
            Fault::Huge => every(Reply::bytes(
                200,
                "application/json",
                vec![b' '; MAX_RESPONSE_BYTES + 1024 * 1024],
            )),
            Fault::RateLimited => every(proto.rate_limited()),
        }
    }
}

/// What the client must see for one fault.
#[derive(Debug)]
struct Expect {
    /// The answer: an HTTP error with this status, or (status 200) a stream that ends with an
    /// error event.
    status: u16,
    /// Words the error message must hold (what happened, and where).
    words: Vec<String>,
    /// Upstream requests the fault may cost: one without retries, three with. `None` when the
    /// fake cannot count them (nothing listened).
    attempts: Option<usize>,
    /// Whether the failures open the circuit (the next request is refused without calling).
    opens_circuit: bool,
}

/// The expected outcome of `fault` for `proto` (the same on both endpoints; each renders it in
/// its own shape).
fn expect(fault: Fault, proto: Proto, stream: bool, port: u16) -> Expect {
    let id = proto.id();
    let retried = Some(1 + MAX_RETRIES as usize);
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match fault {
        Fault::ConnectionRefused if proto == Proto::Ollama => Expect {
            status: 502,
            words: vec![format!(
                "Ollama connection failed: could not reach http://127.0.0.1:{port}"
            )],
            // Ollama runs beside Moxxy: refused is answered at once, not retried.
            attempts: None,
            opens_circuit: false,
        },
        Fault::ConnectionRefused => Expect {
            status: 502,
            words: words(&[&format!("Provider '{id}' could not be reached")]),
            attempts: None,
            opens_circuit: true,
        },
        Fault::ResetBeforeHeaders => Expect {
            status: 502,
            words: words(&[&format!("Provider '{id}'"), "before answering"]),
            attempts: retried,
            opens_circuit: true,
        },
        Fault::CutMidStream => Expect {
            status: 200,
            words: words(&[&format!("provider '{id}'"), "cut off"]),
            // The client already has text: nothing may be retried.
            attempts: Some(1),
            opens_circuit: false,
        },
        Fault::CutMidBody => Expect {
            status: 502,
            words: words(&[&format!("Provider '{id}'"), "broke off"]),
            attempts: retried,
            opens_circuit: true,
        },
        Fault::StallMidStream => Expect {
            status: 200,
            words: words(&[&format!("Provider '{id}'"), "sent nothing for 1 s"]),
            attempts: Some(1),
            opens_circuit: false,
        },
        Fault::StallBeforeAnswer => Expect {
            status: 504,
            words: words(&[&format!("Provider '{id}'"), "did not answer within 1 s"]),
            attempts: retried,
            opens_circuit: true,
        },
        Fault::GarbageBytes => Expect {
            status: 502,
            words: if stream { words(&[]) } else { words(&["JSON"]) },
            attempts: retried,
            opens_circuit: true,
        },
        Fault::HtmlErrorPage => Expect {
            status: 502,
            words: words(&["502 Bad Gateway"]),
            attempts: retried,
            opens_circuit: true,
        },
        Fault::JsonErrorIn200 => Expect {
            status: 502,
            words: words(&["The server had an error processing your request"]),
            attempts: retried,
            opens_circuit: true,
        },
        Fault::Huge if stream => Expect {
            status: 200,
            words: words(&[&format!("Provider '{id}'"), "64 MiB"]),
            attempts: Some(1),
            opens_circuit: false,
        },
        Fault::Huge => Expect {
            status: 502,
            words: words(&[&format!("Provider '{id}'"), "larger than 64 MiB"]),
            // Another attempt would read (and refuse) another 64 MiB.
            attempts: Some(1),
            opens_circuit: false,
        },
        Fault::RateLimited => Expect {
            status: 429,
            words: words(&["Rate limit exceeded"]),
            attempts: retried,
            // A 429 proves the upstream is up: it has its own cool-down, not the circuit.
            opens_circuit: false,
        },
    }
}

/// One app around one provider at a reserved loopback port.
struct Case {
    proto: Proto,
    port: u16,
    fake: Option<FakeUpstream>,
    state: AppState,
    token: String,
    _data: tempfile::TempDir,
}

impl Case {
    async fn new(proto: Proto, request_timeout: Duration) -> Case {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        let vault = Vault::new(MasterKey::generate().unwrap(), store.clone());
        let state = AppState {
            config: Arc::new(Config {
                aliases: BTreeMap::new(),
                ..Config::default()
            }),
            store,
            vault,
            supervisor: ProviderSupervisor::new().start(),
            directory: Directory::new(),
            model_lists: moxxy::model_lists::ModelLists::new(),
            agents: moxxy::agents::Agents::new(),
            metrics: moxxy::api::metrics::Metrics::new(),
            env: Arc::new(|_| None),
            started_at: Instant::now(),
            shutdown: moxxy::shutdown::Shutdown::default(),
        };
        let new = moxxy::auth::token::generate(
            "test",
            vec![moxxy::auth::token::Scope::Admin],
            None,
            std::time::SystemTime::now(),
        );
        state.store.tokens().create(&new.record).unwrap();
        // Ollama names a model without a tag `:latest`, as Ollama does.
        let upstream_model = match proto {
            Proto::Ollama => format!("{MODEL}:latest"),
            _ => MODEL.to_string(),
        };
        let mut config = ProviderConfig::new(proto.id(), proto.kind(), proto.base_url(&url))
            .with_models([upstream_model.clone()]);
        if proto != Proto::Ollama {
            config.credentials = Credentials::ApiKey(ApiKey::new(TEST_KEY));
        }
        config.retry = RetryPolicy {
            max_retries: MAX_RETRIES,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(2),
            max_total_wait: Duration::from_secs(10),
        };
        config.circuit = CircuitConfig {
            failure_threshold: CIRCUIT_THRESHOLD,
            open_for: CIRCUIT_OPEN_FOR,
        };
        config.timeouts = Timeouts {
            connect: Duration::from_secs(2),
            request: request_timeout,
            stream_idle: STREAM_IDLE,
        };
        let addr = state
            .supervisor
            .send(Upsert(config))
            .await
            .unwrap()
            .unwrap();
        state.directory.upsert(ProviderEntry {
            id: proto.id().into(),
            kind: proto.kind(),
            models: vec![upstream_model],
            open_model_list: false,
            addr,
        });
        Case {
            proto,
            port,
            fake: None,
            state,
            token: new.secret.expose().to_string(),
            _data: data,
        }
    }

    /// Starts the fake at the provider's port, answering normally unless scripted.
    async fn start_fake(&mut self) -> FakeUpstream {
        let fake = FakeUpstream::start_with(Options {
            addr: ([127, 0, 0, 1], self.port).into(),
            ..Options::default()
        })
        .await
        .unwrap();
        fake.set_default(self.proto.path(), self.proto.normal());
        self.fake = Some(fake.clone());
        fake
    }

    fn attempts(&self) -> usize {
        self.fake
            .as_ref()
            .map_or(0, |f| f.request_count(self.proto.path()))
    }

    /// Sends one completion request to `endpoint` and reads the whole answer, within [`BOUND`].
    async fn send(&self, endpoint: Endpoint, stream: bool) -> Answer {
        let model = format!("{}/{MODEL}", self.proto.id());
        let (uri, body) = match endpoint {
            Endpoint::Chat => (
                "/v1/chat/completions",
                json!({"model": model, "stream": stream,
                       "messages": [{"role": "user", "content": "Hello"}]}),
            ),
            Endpoint::Messages => (
                "/v1/messages",
                json!({"model": model, "stream": stream, "max_tokens": 64,
                       "messages": [{"role": "user", "content": "Hello"}]}),
            ),
        };
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(self.state.clone()))
                .wrap(actix_web::middleware::from_fn(
                    moxxy::api::middleware::request_context,
                ))
                .configure(moxxy::api::configure),
        )
        .await;
        let req = test::TestRequest::post()
            .uri(uri)
            .insert_header(("content-type", "application/json"))
            .insert_header(("authorization", format!("Bearer {}", self.token)))
            .set_payload(body.to_string())
            .to_request();
        let started = Instant::now();
        let answer = tokio::time::timeout(BOUND, async {
            let res = test::call_service(&app, req).await;
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let body = test::read_body(res).await;
            Answer {
                status,
                retry_after: headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                content_type: headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string(),
                request_id: headers
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string(),
                text: String::from_utf8_lossy(&body).into_owned(),
                took: started.elapsed(),
            }
        })
        .await;
        answer.unwrap_or_else(|_| {
            panic!(
                "{:?} {endpoint:?} stream={stream}: no answer within {BOUND:?} (a hang)",
                self.proto
            )
        })
    }
}

/// A port that was free a moment ago: nothing listens there until the test starts a fake.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A whole answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    content_type: String,
    request_id: String,
    text: String,
    took: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The SSE `(event, data)` pairs of a streamed answer.
    fn sse(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for block in self.text.split("\n\n") {
            let mut event = String::from("message");
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event = name.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push(d);
                }
            }
            if !data.is_empty() {
                out.push((event, data.join("\n")));
            }
        }
        out
    }
}

/// Checks an HTTP error in the endpoint's shape; returns its message.
fn http_error(answer: &Answer, endpoint: Endpoint, provider: &str, what: &str) -> String {
    assert!(
        answer.content_type.starts_with("application/json"),
        "{what}: an error is JSON, got {:?}: {}",
        answer.content_type,
        answer.text
    );
    let body = answer.json();
    match endpoint {
        Endpoint::Chat => {
            let error = &body["error"];
            for key in ["type", "code", "message", "param", "provider", "request_id"] {
                assert!(
                    error.get(key).is_some(),
                    "{what}: error lacks {key}: {body}"
                );
            }
            assert_eq!(error["request_id"], answer.request_id.as_str(), "{what}");
            assert_eq!(error["provider"], provider, "{what}: {body}");
            error["message"].as_str().unwrap().to_string()
        }
        Endpoint::Messages => {
            assert_eq!(body["type"], "error", "{what}: {body}");
            let error = &body["error"];
            assert!(
                error["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("error") || t == "request_too_large"),
                "{what}: {body}"
            );
            error["message"].as_str().unwrap().to_string()
        }
    }
}

/// Checks a stream that started and then failed: some text arrived, and it ends with one error
/// event in the endpoint's format (OpenAI: a `data: {"error":…}` chunk and no `[DONE]`;
/// Anthropic: `event: error`). Returns the error's message.
fn stream_error(answer: &Answer, endpoint: Endpoint, what: &str) -> String {
    assert!(
        answer.content_type.starts_with("text/event-stream"),
        "{what}: a started stream stays a stream: {:?}",
        answer.content_type
    );
    let events = answer.sse();
    let (last_event, last_data) = events
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("{what}: empty stream"));
    let last: Value = serde_json::from_str(&last_data).unwrap();
    match endpoint {
        Endpoint::Chat => {
            assert!(
                !answer.text.contains("[DONE]"),
                "{what}: a failed stream must not end with [DONE]: {}",
                answer.text
            );
            let text: String = events
                .iter()
                .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
                .filter_map(|c| {
                    c["choices"][0]["delta"]["content"]
                        .as_str()
                        .map(str::to_string)
                })
                .collect();
            assert!(
                !text.is_empty(),
                "{what}: some text came before the fault: {}",
                answer.text
            );
            last["error"]["message"]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: last chunk is no error: {last}"))
                .to_string()
        }
        Endpoint::Messages => {
            assert_eq!(last_event, "error", "{what}: {}", answer.text);
            assert_eq!(last["type"], "error");
            assert!(
                events.iter().any(|(e, _)| e == "content_block_delta"),
                "{what}: some text came before the fault: {}",
                answer.text
            );
            assert!(
                !events.iter().any(|(e, _)| e == "message_stop"),
                "{what}: a failed stream must not say message_stop"
            );
            last["error"]["message"].as_str().unwrap().to_string()
        }
    }
}

/// Checks a normal answer.
fn normal(answer: &Answer, endpoint: Endpoint, stream: bool, what: &str) {
    assert_eq!(answer.status, 200, "{what}: {}", answer.text);
    match (endpoint, stream) {
        (Endpoint::Chat, false) => assert_eq!(
            answer.json()["choices"][0]["message"]["content"],
            "ok",
            "{what}"
        ),
        (Endpoint::Messages, false) => {
            assert_eq!(answer.json()["content"][0]["text"], "ok", "{what}")
        }
        (Endpoint::Chat, true) => assert!(
            answer.text.ends_with("data: [DONE]\n\n"),
            "{what}: {}",
            answer.text
        ),
        (Endpoint::Messages, true) => assert!(
            answer.text.contains("event: message_stop"),
            "{what}: {}",
            answer.text
        ),
    }
}

/// Runs one fault for one protocol, endpoint and stream mode; panics saying what went wrong.
async fn run(fault: Fault, proto: Proto, endpoint: Endpoint, stream: bool) {
    let what = format!("{fault:?} × {proto:?} × {endpoint:?} × stream={stream}");
    // A huge case holds some 200 MB while it runs: two at a time across the whole matrix.
    let _huge = match fault {
        Fault::Huge => Some(HUGE_AT_ONCE.acquire().await.unwrap()),
        _ => None,
    };
    let timeout = match fault {
        Fault::StallBeforeAnswer => SHORT_TIMEOUT,
        _ => REQUEST_TIMEOUT,
    };
    let mut case = Case::new(proto, timeout).await;
    let expect = expect(fault, proto, stream, case.port);
    if fault != Fault::ConnectionRefused {
        let fake = case.start_fake().await;
        fault.script(&fake, proto, stream);
    }

    // The fault.
    let answer = case.send(endpoint, stream).await;
    assert_eq!(answer.status, expect.status, "{what}: {}", answer.text);
    let message = if expect.status == 200 {
        stream_error(&answer, endpoint, &what)
    } else {
        http_error(&answer, endpoint, proto.id(), &what)
    };
    for word in &expect.words {
        assert!(
            message.contains(word.as_str()),
            "{what}: the message should say {word:?}: {message:?}"
        );
    }
    assert!(
        !message.contains(TEST_KEY),
        "{what}: the key leaked: {message}"
    );
    if fault == Fault::RateLimited {
        assert!(
            answer.retry_after.is_some(),
            "{what}: a 429 says when to come back"
        );
    }
    if let Some(n) = expect.attempts {
        assert_eq!(case.attempts(), n, "{what}: upstream attempts");
    }
    if fault == Fault::StallMidStream {
        // Ended by the 1 s idle timeout (its message says so), well before the bound.
        assert!(answer.took < BOUND / 3, "{what}: took {:?}", answer.took);
    }

    // The provider keeps serving (the fake comes up now if nothing listened before).
    if case.fake.is_none() {
        case.start_fake().await;
    }
    if let Some(fake) = &case.fake {
        fake.clear_script();
        fake.set_default(proto.path(), proto.normal());
    }
    let before = case.attempts();
    if expect.opens_circuit {
        let refused = case.send(endpoint, stream).await;
        assert_eq!(
            refused.status, 503,
            "{what}: the circuit is open: {}",
            refused.text
        );
        let message = http_error(&refused, endpoint, proto.id(), &what);
        assert!(message.contains(proto.id()), "{what}: {message}");
        assert_eq!(
            case.attempts(),
            before,
            "{what}: an open circuit does not call the upstream"
        );
        tokio::time::sleep(CIRCUIT_OPEN_FOR + Duration::from_millis(50)).await;
    }
    // The probe (or simply the next request) succeeds. On a machine so busy that a normal answer
    // outlasts the stall case's 1 s timeout, the probe fails and the circuit opens again: then
    // the next probe is waited for, within a bound.
    let deadline = Instant::now() + BOUND;
    loop {
        let ok = case.send(endpoint, stream).await;
        let busy = matches!(ok.status, 503 | 504) && fault == Fault::StallBeforeAnswer;
        if busy && Instant::now() < deadline {
            tokio::time::sleep(CIRCUIT_OPEN_FOR + Duration::from_millis(50)).await;
            continue;
        }
        normal(&ok, endpoint, stream, &what);
        break;
    }
    // And so does the next one: the circuit is closed.
    let ok = case.send(endpoint, stream).await;
    normal(&ok, endpoint, stream, &what);
    // At least: on a busy machine a slow answer may be timed out and retried, as it should.
    assert!(
        case.attempts() >= before + 2,
        "{what}: both normal requests reached the upstream"
    );
}

/// Runs the whole table for one protocol, several cases at a time (each has its own app, fake
/// and port); fails listing every case that failed.
async fn matrix(proto: Proto) {
    let mut cases = Vec::new();
    for fault in FAULTS {
        for endpoint in [Endpoint::Chat, Endpoint::Messages] {
            for stream in [false, true] {
                if fault.applies(stream) {
                    cases.push((fault, endpoint, stream));
                }
            }
        }
    }
    // 11 faults: 8 apply to both modes, 3 to one: 19 cases per endpoint.
    assert_eq!(cases.len(), 38);
    // The slow ones first, so the quick ones fill in around them.
    cases.sort_by_key(|(fault, _, _)| !matches!(fault, Fault::StallBeforeAnswer | Fault::Huge));
    let failed: Vec<String> = futures_util::stream::iter(cases)
        .map(|(fault, endpoint, stream)| async move {
            let case = AssertUnwindSafe(run(fault, proto, endpoint, stream));
            case.catch_unwind().await.err().map(|panic| {
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            })
        })
        .buffer_unordered(12)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    assert!(
        failed.is_empty(),
        "{} of 38 cases failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[actix_web::test]
async fn openai_upstream_faults() {
    matrix(Proto::OpenAi).await;
}

#[actix_web::test]
async fn anthropic_upstream_faults() {
    matrix(Proto::Anthropic).await;
}

#[actix_web::test]
async fn ollama_upstream_faults() {
    matrix(Proto::Ollama).await;
}
