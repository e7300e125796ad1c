//! Live model lists through the provider actor: Anthropic's pages followed by `after_id`, the
//! OpenAI-style list, Gemini's `models/` prefix, Ollama's tags, and errors mapped like completions.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use moxxy_actors::provider::{self, ProviderKind};
use moxxy_actors::ErrorKind;
use moxxy_fake_upstream::{anthropic, ollama, openai, FakeUpstream, Reply};
use serde_json::json;

#[actix::test]
async fn anthropic_pages_are_followed_with_after_id() {
    let fake = FakeUpstream::start().await.unwrap();
    let first = ["claude-opus-5", "claude-sonnet-5"];
    let second = ["claude-sonnet-4-5", "claude-haiku-4-5"];
    fake.push(
        "/v1/models",
        Reply::json(200, anthropic::models_page(&first, true)),
    );
    fake.push(
        "/v1/models",
        Reply::json(200, anthropic::models_page(&second, false)),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;

    let ids = provider::list_models(&addr).await.unwrap();

    assert_eq!(
        ids,
        [
            "claude-opus-5",
            "claude-sonnet-5",
            "claude-sonnet-4-5",
            "claude-haiku-4-5"
        ]
    );
    let seen = fake.requests();
    assert_eq!(seen.len(), 2, "one request per page");
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/v1/models?limit=1000");
    assert_eq!(
        seen[1].path,
        "/v1/models?limit=1000&after_id=claude-sonnet-5"
    );
    for request in &seen {
        assert_eq!(request.header("x-api-key"), Some(TEST_KEY));
        assert!(request.header("anthropic-version").is_some());
    }
}

#[actix::test]
async fn an_anthropic_page_that_does_not_move_on_ends_the_list() {
    let fake = FakeUpstream::start().await.unwrap();
    // Always "more", always the same last id: asking again would never end.
    fake.set_default(
        "/v1/models",
        Reply::json(200, anthropic::models_page(&["claude-opus-5"], true)),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;

    let ids = provider::list_models(&addr).await.unwrap();

    assert_eq!(ids, ["claude-opus-5"]);
    assert_eq!(fake.request_count("/v1/models"), 2);
}

#[actix::test]
async fn openai_lists_its_models_with_the_bearer_key() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/models",
        Reply::json(200, openai::models(&["gpt-4.1", "gpt-5", "o3"])),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;

    let ids = provider::list_models(&addr).await.unwrap();

    assert_eq!(ids, ["gpt-4.1", "gpt-5", "o3"]);
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/v1/models");
    let bearer = format!("Bearer {TEST_KEY}");
    assert_eq!(seen[0].header("authorization"), Some(bearer.as_str()));
}

#[actix::test]
async fn a_gemini_models_prefix_is_stripped() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/models",
        Reply::json(
            200,
            json!({"object": "list", "data": [
                {"id": "models/gemini-2.5-flash", "object": "model", "owned_by": "google"},
                {"id": "models/gemini-2.5-pro", "object": "model", "owned_by": "google"},
            ]}),
        ),
    );
    let addr = start(config(&fake, ProviderKind::OpenAiCompatible)).await;

    let ids = provider::list_models(&addr).await.unwrap();

    assert_eq!(ids, ["gemini-2.5-flash", "gemini-2.5-pro"]);
}

#[actix::test]
async fn ollama_lists_its_pulled_models() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/api/tags",
        Reply::json(200, ollama::tags(&["llama3.2:latest", "qwen3:8b"])),
    );
    let addr = start(config(&fake, ProviderKind::Ollama)).await;

    let ids = provider::list_models(&addr).await.unwrap();

    assert_eq!(ids, ["llama3.2:latest", "qwen3:8b"]);
}

#[actix::test]
async fn a_401_is_an_authentication_error_once_without_retries() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/models", anthropic::authentication_error());
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;

    let err = provider::list_models(&addr).await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::Authentication);
    assert_eq!(err.message, "Authentication failed - check your API key");
    assert_eq!(err.status, Some(401));
    assert_eq!(err.provider.as_deref(), Some("anthropic"));
    assert_eq!(fake.request_count("/v1/models"), 1, "a list is not retried");
}

#[actix::test]
async fn an_openai_401_never_echoes_the_key() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/models", openai::invalid_api_key());
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;

    let err = provider::list_models(&addr).await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::Authentication);
    assert!(!format!("{err:?}").contains(TEST_KEY));
}

#[actix::test]
async fn without_a_key_nothing_is_sent() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut cfg = config(&fake, ProviderKind::OpenAi);
    cfg.credentials = Credentials::None;
    cfg.key_env_hint = Some("OPENAI_API_KEY".into());
    let addr = start(cfg).await;

    let err = provider::list_models(&addr).await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::NoCredentials);
    assert_eq!(
        err.message,
        "No API key set for provider 'openai' - set OPENAI_API_KEY or register one"
    );
    assert_eq!(fake.requests().len(), 0);
}

#[actix::test]
async fn an_answer_that_is_not_a_list_is_an_upstream_error() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/v1/models", Reply::json(200, json!({"unexpected": true})));
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;

    let err = provider::list_models(&addr).await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(err.message.contains("not a model list"), "{}", err.message);
}

#[actix::test]
async fn an_unreachable_upstream_fails_promptly() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut cfg = config(&fake, ProviderKind::Anthropic);
    // A port nothing listens on: bound, then let go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    cfg.base_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let addr = start(cfg).await;
    let started = Instant::now();

    let err = provider::list_models(&addr).await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::Unreachable, "{}", err.message);
    assert!(started.elapsed() < Duration::from_secs(5));
}
