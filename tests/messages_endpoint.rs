//! `POST /v1/messages`, the Anthropic Messages API, through the real actix app (auth included),
//! real provider actors and a fake upstream on loopback speaking each provider's wire format.
//!
//! Each test builds a fresh [`Harness`]: one fake upstream, the three built-ins pointed at it,
//! the alias `sonnet`, and a `chat` token sent in `x-api-key` as the Anthropic SDKs send it.
#![allow(clippy::unwrap_used)]

#[path = "messages_endpoint/answers.rs"]
mod answers;
#[path = "messages_endpoint/errors.rs"]
mod errors;
#[path = "messages_endpoint/streaming.rs"]
mod streaming;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Actor;
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use moxxy::api::AppState;
use moxxy::auth::token::{self, Scope};
use moxxy::builtin_models::builtin_models;
use moxxy::config::Config;
use moxxy::directory::{Directory, ProviderEntry};
use moxxy::store::Store;
use moxxy::vault::{MasterKey, Vault};
use moxxy_actors::provider::{Credentials, ProviderConfig, ProviderKind};
use moxxy_actors::retry::RetryPolicy;
use moxxy_actors::supervisor::{ProviderSupervisor, Upsert};
use moxxy_actors::ApiKey;
use moxxy_fake_upstream::FakeUpstream;
use serde_json::{json, Value};

/// A test key: obviously fake.
const TEST_KEY: &str = "test-key-0123456789abcdef";

const OPENAI_PATH: &str = "/v1/chat/completions";
const ANTHROPIC_PATH: &str = "/v1/messages";
const OLLAMA_PATH: &str = "/api/chat";

/// An app's worth of state around one fake upstream.
pub struct Harness {
    pub fake: FakeUpstream,
    pub state: AppState,
    /// A `chat` token, sent in `x-api-key`.
    pub token: String,
    _data: tempfile::TempDir,
}

impl Harness {
    /// `anthropic` and `openai` with their built-in models, `ollama` with `llama3.2:latest`.
    pub async fn new() -> Harness {
        let fake = FakeUpstream::start().await.unwrap();
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        let vault = Vault::new(MasterKey::generate().unwrap(), store.clone());
        let aliases = BTreeMap::from([("sonnet".into(), "anthropic/claude-sonnet-4-5".into())]);
        let state = AppState {
            config: Arc::new(Config {
                aliases,
                ..Config::default()
            }),
            store,
            vault,
            supervisor: ProviderSupervisor::new().start(),
            directory: Directory::new(),
            metrics: moxxy::api::metrics::Metrics::new(),
            model_lists: moxxy::model_lists::ModelLists::new(),
            agents: moxxy::agents::Agents::new(),
            env: Arc::new(|_| None),
            started_at: Instant::now(),
            shutdown: moxxy::shutdown::Shutdown::default(),
        };
        let h = Harness {
            token: h_token(&state, Scope::Chat),
            fake,
            state,
            _data: data,
        };
        for kind in [ProviderKind::Anthropic, ProviderKind::OpenAi] {
            let models = builtin_models(kind).iter().map(|m| m.to_string()).collect();
            h.add(h.config(kind.as_str(), kind), models).await;
        }
        let ollama = h.config("ollama", ProviderKind::Ollama);
        h.add(ollama, vec!["llama3.2:latest".into()]).await;
        h
    }

    /// A configuration pointed at the fake, with a key (but for Ollama) and fast retries.
    pub fn config(&self, id: &str, kind: ProviderKind) -> ProviderConfig {
        let base = match kind {
            ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => {
                format!("{}/v1", self.fake.url())
            }
            _ => self.fake.url(),
        };
        let mut config = ProviderConfig::new(id, kind, base);
        if kind != ProviderKind::Ollama {
            config.credentials = Credentials::ApiKey(ApiKey::new(TEST_KEY));
        }
        config.retry = RetryPolicy {
            max_retries: 0,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
            max_total_wait: Duration::from_secs(10),
        };
        config
    }

    /// Starts (or replaces) a provider and lists it in the directory.
    pub async fn add(&self, config: ProviderConfig, models: Vec<String>) {
        let (id, kind) = (config.id.clone(), config.kind);
        let addr = self.state.supervisor.send(Upsert(config)).await.unwrap();
        self.state.directory.upsert(ProviderEntry {
            id,
            kind,
            models,
            open_model_list: true,
            addr: addr.unwrap(),
        });
    }

    /// Sends `req` through the app as the server mounts it and reads the whole answer.
    pub async fn call(&self, req: test::TestRequest) -> Answer {
        let app = App::new()
            .app_data(web::Data::new(self.state.clone()))
            .wrap(actix_web::middleware::from_fn(
                moxxy::api::middleware::request_context,
            ))
            .configure(moxxy::api::configure);
        let app = test::init_service(app).await;
        let res = test::call_service(&app, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = test::read_body(res).await;
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `POST /v1/messages` with `body` (any bytes), the token in `x-api-key`.
    pub async fn messages_raw(&self, body: impl Into<bytes::Bytes>) -> Answer {
        let req = test::TestRequest::post()
            .uri("/v1/messages")
            .insert_header(("content-type", "application/json"))
            .insert_header(("anthropic-version", "2023-06-01"))
            .insert_header(("x-api-key", self.token.clone()))
            .set_payload(body.into());
        self.call(req).await
    }

    /// `POST /v1/messages` with a JSON body.
    pub async fn messages(&self, body: Value) -> Answer {
        self.messages_raw(body.to_string()).await
    }

    /// The requests the fake received on `path`.
    pub fn sent(&self, path: &str) -> Vec<moxxy_fake_upstream::RecordedRequest> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.route() == path)
            .collect()
    }
}

/// Creates a token with `scope` in the store and returns its secret.
fn h_token(state: &AppState, scope: Scope) -> String {
    let new = token::generate("test", vec![scope], None, std::time::SystemTime::now());
    state.store.tokens().create(&new.record).unwrap();
    new.secret.expose().to_string()
}

/// A one-message Anthropic request body.
pub fn ask(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": stream,
    })
}

/// A whole response.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The SSE events as `(event name, data as JSON)`, in order.
    pub fn events(&self) -> Vec<(String, Value)> {
        self.text()
            .split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(|event| {
                let mut name = String::new();
                let mut data = String::new();
                for line in event.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = n.to_string();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    }
                }
                (name, serde_json::from_str(&data).unwrap())
            })
            .collect()
    }

    /// Asserts the body is Anthropic's error shape with `error_type` and returns the message; the
    /// body's `request_id` and the `request-id` header equal `x-request-id`.
    pub fn anthropic_error(&self, status: StatusCode, error_type: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_eq!(body["type"], "error", "{body}");
        assert_eq!(body["error"]["type"], error_type, "{body}");
        assert!(body.get("code").is_none() && body["error"].get("code").is_none());
        let id = self.header("x-request-id").unwrap();
        assert_eq!(self.header("request-id"), Some(id));
        assert_eq!(body["request_id"], id);
        body["error"]["message"].as_str().unwrap().to_string()
    }
}
