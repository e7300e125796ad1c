//! `POST /v1/chat/completions` and the model lists, through the real actix app, real provider
//! actors and a fake upstream on loopback speaking each provider's wire format.
//!
//! Each test builds a fresh [`Harness`]: one fake upstream, a supervisor with the three built-ins
//! and two custom providers pointed at it, a directory, and the aliases `sonnet` and `local`.
#![allow(clippy::unwrap_used)]

#[path = "chat_endpoint/errors.rs"]
mod errors;
#[path = "chat_endpoint/models.rs"]
mod models;
#[path = "chat_endpoint/plain.rs"]
mod plain;
#[path = "chat_endpoint/streaming.rs"]
mod streaming;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, Addr};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use bytes::Bytes;
use moxxy::api::AppState;
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
    /// An admin token every request carries.
    pub token: String,
    _data: tempfile::TempDir,
}

impl Harness {
    /// `anthropic`, `openai`, `ollama` (pulled: `llama3.2:latest`), and the custom `relay`
    /// (`gpt-4.1`, `shared`) and `xai` (`grok-3`, `shared`).
    pub async fn new() -> Harness {
        let fake = FakeUpstream::start().await.unwrap();
        let supervisor = ProviderSupervisor::new().start();
        let directory = Directory::new();
        let data = tempfile::tempdir().unwrap();
        let aliases = [
            ("sonnet", "anthropic/claude-sonnet-4-5"),
            ("local", "ollama/llama3.2"),
        ]
        .into_iter()
        .map(|(a, t)| (a.to_string(), t.to_string()))
        .collect::<BTreeMap<_, _>>();
        let state = test_state(supervisor, directory, data.path(), aliases);
        let new = moxxy::auth::token::generate(
            "test",
            vec![moxxy::auth::token::Scope::Admin],
            None,
            std::time::SystemTime::now(),
        );
        state.store.tokens().create(&new.record).unwrap();
        let h = Harness {
            fake,
            state,
            token: new.secret.expose().to_string(),
            _data: data,
        };
        for kind in [ProviderKind::Anthropic, ProviderKind::OpenAi] {
            let models = builtin_models(kind).iter().map(|m| m.to_string()).collect();
            h.add(h.config(kind.as_str(), kind), models, true).await;
        }
        let ollama = h.config("ollama", ProviderKind::Ollama);
        h.add(ollama, vec!["llama3.2:latest".into()], true).await;
        for (id, models) in [
            ("relay", ["gpt-4.1", "shared"]),
            ("xai", ["grok-3", "shared"]),
        ] {
            let mut config = h
                .config(id, ProviderKind::OpenAiCompatible)
                .with_models(models);
            // Both share the fake's path: a header tells them apart.
            config.headers = vec![("x-test-provider".into(), id.into())];
            let models = config.models.clone();
            h.add(config, models, false).await;
        }
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
            max_retries: 2,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
            max_total_wait: Duration::from_secs(10),
        };
        config
    }

    /// Starts (or replaces) a provider and lists it in the directory.
    pub async fn add(&self, config: ProviderConfig, models: Vec<String>, open: bool) {
        let (id, kind) = (config.id.clone(), config.kind);
        let addr = self.state.supervisor.send(Upsert(config)).await.unwrap();
        self.state.directory.upsert(ProviderEntry {
            id,
            kind,
            models,
            open_model_list: open,
            addr: addr.unwrap(),
        });
    }

    /// The app as the server mounts these routes.
    pub fn app(
        &self,
    ) -> App<
        impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        App::new()
            .app_data(web::Data::new(self.state.clone()))
            .wrap(actix_web::middleware::from_fn(
                moxxy::api::middleware::request_context,
            ))
            .configure(moxxy::api::configure)
    }

    /// Sends `req` through the app and reads the whole answer.
    pub async fn call(&self, req: test::TestRequest) -> Answer {
        let app = test::init_service(self.app()).await;
        let req = req.insert_header(("authorization", format!("Bearer {}", self.token)));
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

    /// `POST /v1/chat/completions` with a JSON body.
    pub async fn chat(&self, body: Value) -> Answer {
        self.chat_raw(body.to_string()).await
    }

    /// `POST /v1/chat/completions` with any bytes.
    pub async fn chat_raw(&self, body: impl Into<Bytes>) -> Answer {
        let req = test::TestRequest::post()
            .uri("/v1/chat/completions")
            .insert_header(("content-type", "application/json"))
            .set_payload(body.into());
        self.call(req).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.call(test::TestRequest::get().uri(path)).await
    }

    /// The JSON bodies the fake received on `path`.
    pub fn sent(&self, path: &str) -> Vec<Value> {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.route() == path)
            .map(|r| r.json())
            .collect()
    }
}

/// The state the handlers share: a real store and vault in `data`, the default configuration
/// with the test's aliases.
pub fn test_state(
    supervisor: Addr<ProviderSupervisor>,
    directory: Directory,
    data: &std::path::Path,
    aliases: BTreeMap<String, String>,
) -> AppState {
    let store = Store::open(data).unwrap();
    let vault = Vault::new(MasterKey::generate().unwrap(), store.clone());
    let config = Config {
        aliases,
        ..Config::default()
    };
    AppState {
        config: Arc::new(config),
        store,
        vault,
        supervisor,
        directory,
        model_lists: moxxy::model_lists::ModelLists::new(),
        agents: moxxy::agents::Agents::new(),
        metrics: moxxy::api::metrics::Metrics::new(),
        env: Arc::new(|_| None),
        started_at: Instant::now(),
        shutdown: moxxy::shutdown::Shutdown::default(),
    }
}

/// A one-message chat request body.
pub fn ask(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [{"role": "user", "content": "Hello"}],
        "max_tokens": 64,
        "stream": stream,
    })
}

/// A whole response.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
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

    /// The `data:` payloads of an SSE body, in order (`[DONE]` included).
    pub fn sse_data(&self) -> Vec<String> {
        sse_data(&self.text())
    }

    /// The SSE chunks parsed as JSON (`[DONE]` left out).
    pub fn chunks(&self) -> Vec<Value> {
        self.sse_data()
            .iter()
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    /// The error body's `error` object.
    pub fn error(&self) -> Value {
        self.json()["error"].clone()
    }
}

/// The `data:` payloads of SSE text.
pub fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .flat_map(|event| event.lines())
        .filter_map(|line| line.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}
