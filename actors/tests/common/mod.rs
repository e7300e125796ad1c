//! Shared set-up for the engine's integration tests: providers pointed at a fake upstream.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use actix::Addr;
use futures_util::StreamExt;
use moxxy_actors::provider::{self, EventStream, ProviderActor, ProviderConfig, ProviderKind};
use moxxy_actors::retry::RetryPolicy;
use moxxy_actors::supervisor::{ProviderSupervisor, Upsert};
use moxxy_actors::{ApiKey, ChatRequest, Message, Role, StreamEvent};
use moxxy_fake_upstream::FakeUpstream;

pub use moxxy_actors::provider::Credentials;

/// A test key: obviously fake, long enough to have a `last4`.
pub const TEST_KEY: &str = "test-key-0123456789abcdef";

/// The completion path of each protocol on the fake.
pub fn chat_path(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Anthropic => "/v1/messages",
        ProviderKind::Ollama => "/api/chat",
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => "/v1/chat/completions",
    }
}

/// A configuration for `kind` pointed at `fake`, with fast retries so tests stay quick.
pub fn config(fake: &FakeUpstream, kind: ProviderKind) -> ProviderConfig {
    let base = match kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => format!("{}/v1", fake.url()),
        _ => fake.url(),
    };
    let mut config = ProviderConfig::new(kind.as_str(), kind, base);
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

/// Starts a provider actor under a fresh supervisor.
pub async fn start(config: ProviderConfig) -> Addr<ProviderActor> {
    let supervisor = actix::Actor::start(ProviderSupervisor::new());
    supervisor.send(Upsert(config)).await.unwrap().unwrap()
}

/// A one-message user request.
pub fn ask(model: &str, text: &str) -> ChatRequest {
    ChatRequest {
        model: model.to_string(),
        messages: vec![Message::text(Role::User, text)],
        max_tokens: Some(256),
        ..ChatRequest::default()
    }
}

/// Drains a stream into its events.
pub async fn collect(mut stream: EventStream) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event);
    }
    events
}

/// Streams a request and collects every event.
pub async fn stream_all(addr: &Addr<ProviderActor>, req: ChatRequest) -> Vec<StreamEvent> {
    let (stream, _) = provider::stream(addr, req).await.unwrap();
    collect(stream).await
}
