//! `GET /v1/providers/{id}/models` with live lists: from the upstream, cached, falling back to the
//! static list, and a custom provider's registration or `?refresh=upstream`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Actor;
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use moxxy::api::AppState;
use moxxy::config::Config;
use moxxy::directory::{Directory, ProviderEntry};
use moxxy::model_lists::ModelLists;
use moxxy::store::Store;
use moxxy::vault::{MasterKey, Vault};
use moxxy_actors::provider::{Credentials, ProviderConfig, ProviderKind};
use moxxy_actors::supervisor::{ProviderSupervisor, Upsert};
use moxxy_actors::ApiKey;
use moxxy_fake_upstream::{anthropic, openai, FakeUpstream, Reply};
use serde_json::Value;

const TEST_KEY: &str = "test-key-0123456789abcdef";

struct Harness {
    fake: FakeUpstream,
    state: AppState,
    token: String,
    _data: tempfile::TempDir,
}

impl Harness {
    async fn new() -> Harness {
        let fake = FakeUpstream::start().await.unwrap();
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        let vault = Vault::new(MasterKey::generate().unwrap(), store.clone());
        let state = AppState {
            config: Arc::new(Config::default()),
            store,
            vault,
            supervisor: ProviderSupervisor::new().start(),
            directory: Directory::new(),
            model_lists: ModelLists::new(),
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
        Harness {
            fake,
            state,
            token: new.secret.expose().to_string(),
            _data: data,
        }
    }

    fn config(&self, id: &str, kind: ProviderKind) -> ProviderConfig {
        let base = match kind {
            ProviderKind::Anthropic => self.fake.url(),
            _ => format!("{}/v1", self.fake.url()),
        };
        ProviderConfig::new(id, kind, base)
            .with_credentials(Credentials::ApiKey(ApiKey::new(TEST_KEY)))
    }

    async fn add(&self, config: ProviderConfig, models: Vec<String>) {
        let (id, kind) = (config.id.clone(), config.kind);
        let addr = self
            .state
            .supervisor
            .send(Upsert(config))
            .await
            .unwrap()
            .unwrap();
        self.state.directory.upsert(ProviderEntry {
            id,
            kind,
            models,
            open_model_list: kind != ProviderKind::OpenAiCompatible,
            addr,
        });
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(self.state.clone()))
                .wrap(actix_web::middleware::from_fn(
                    moxxy::api::middleware::request_context,
                ))
                .configure(moxxy::api::configure),
        )
        .await;
        let req = test::TestRequest::get()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {}", self.token)));
        let res = test::call_service(&app, req.to_request()).await;
        let status = res.status();
        let body = test::read_body(res).await;
        (status, serde_json::from_slice(&body).unwrap())
    }
}

fn listed(body: &Value) -> Vec<(String, String)> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_string(),
                m["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn builtin(kind: ProviderKind) -> Vec<String> {
    moxxy::builtin_models::builtin_models(kind)
        .iter()
        .map(|m| m.to_string())
        .collect()
}

#[actix_web::test]
async fn anthropic_lists_live_and_the_second_call_is_cached() {
    let h = Harness::new().await;
    h.fake.set_default(
        "/v1/models",
        Reply::json(200, anthropic::models(&["claude-live-1", "claude-live-2"])),
    );
    let config = h.config("anthropic", ProviderKind::Anthropic);
    h.add(config, builtin(ProviderKind::Anthropic)).await;

    let (status, body) = h.get("/v1/providers/anthropic/models").await;
    assert_eq!(status, StatusCode::OK);
    let want = vec![
        ("claude-live-1".to_string(), "upstream".to_string()),
        ("claude-live-2".to_string(), "upstream".to_string()),
    ];
    assert_eq!(listed(&body), want);
    assert_eq!(body["data"][0]["provider"], "anthropic");
    // Routing sees the live ids.
    let entry = h.state.directory.get("anthropic").unwrap();
    assert_eq!(entry.models, ["claude-live-1", "claude-live-2"]);

    let (_, again) = h.get("/v1/providers/anthropic/models").await;
    assert_eq!(listed(&again), want);
    assert_eq!(
        h.fake.request_count("/v1/models"),
        1,
        "served from the cache"
    );

    // ?refresh=upstream asks past the cache.
    h.get("/v1/providers/anthropic/models?refresh=upstream")
        .await;
    assert_eq!(h.fake.request_count("/v1/models"), 2);
}

#[actix_web::test]
async fn a_new_configuration_or_an_expired_answer_asks_again() {
    let mut h = Harness::new().await;
    h.state.model_lists = ModelLists::with_ttl(Duration::from_millis(200));
    h.fake.set_default(
        "/v1/models",
        Reply::json(200, openai::models(&["gpt-live"])),
    );
    h.add(
        h.config("openai", ProviderKind::OpenAi),
        builtin(ProviderKind::OpenAi),
    )
    .await;

    h.get("/v1/providers/openai/models").await;
    h.get("/v1/providers/openai/models").await;
    assert_eq!(h.fake.request_count("/v1/models"), 1);

    tokio::time::sleep(Duration::from_millis(300)).await;
    h.get("/v1/providers/openai/models").await;
    assert_eq!(h.fake.request_count("/v1/models"), 2, "the answer expired");

    // A PATCH reconfigures the actor: the cached answer belongs to the old configuration.
    let config = h.config("openai", ProviderKind::OpenAi);
    h.state
        .supervisor
        .send(Upsert(config))
        .await
        .unwrap()
        .unwrap();
    h.get("/v1/providers/openai/models").await;
    assert_eq!(h.fake.request_count("/v1/models"), 3);
}

#[actix_web::test]
async fn an_upstream_error_falls_back_to_the_builtin_list() {
    let h = Harness::new().await;
    h.fake
        .set_default("/v1/models", anthropic::authentication_error());
    h.add(
        h.config("anthropic", ProviderKind::Anthropic),
        builtin(ProviderKind::Anthropic),
    )
    .await;

    let (status, body) = h.get("/v1/providers/anthropic/models").await;

    assert_eq!(status, StatusCode::OK);
    let ids: Vec<String> = listed(&body).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, builtin(ProviderKind::Anthropic));
    assert!(listed(&body).iter().all(|(_, source)| source == "builtin"));
}

#[actix_web::test]
async fn without_a_key_the_builtin_list_is_shown_and_nothing_is_asked() {
    let h = Harness::new().await;
    let config = h
        .config("openai", ProviderKind::OpenAi)
        .with_credentials(Credentials::None);
    h.add(config, builtin(ProviderKind::OpenAi)).await;

    let (status, body) = h.get("/v1/providers/openai/models").await;

    assert_eq!(status, StatusCode::OK);
    assert!(listed(&body).contains(&("gpt-4.1".to_string(), "builtin".to_string())));
    assert_eq!(h.fake.requests().len(), 0);
}

#[actix_web::test]
async fn a_custom_provider_lists_its_registration_or_its_upstream_on_request() {
    let h = Harness::new().await;
    let config = h
        .config("xai", ProviderKind::OpenAiCompatible)
        .with_models(["grok-3"]);
    h.add(config, vec!["grok-3".into()]).await;
    h.fake.push(
        "/v1/models",
        Reply::json(200, openai::models(&["grok-3", "grok-4"])),
    );
    h.fake.push("/v1/models", openai::invalid_api_key());

    let (_, body) = h.get("/v1/providers/xai/models").await;
    assert_eq!(
        listed(&body),
        [("grok-3".to_string(), "registration".to_string())]
    );
    assert_eq!(h.fake.request_count("/v1/models"), 0);

    let (status, body) = h.get("/v1/providers/xai/models?refresh=upstream").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed(&body),
        [
            ("grok-3".to_string(), "upstream".to_string()),
            ("grok-4".to_string(), "upstream".to_string())
        ]
    );

    let (status, body) = h.get("/v1/providers/xai/models?refresh=upstream").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["type"], "authentication_error");

    let (status, _) = h.get("/v1/providers/xai/models?refresh=sometimes").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
