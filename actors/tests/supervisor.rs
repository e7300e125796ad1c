//! The supervisor: replace keeps cached addresses valid, remove retires them, a stopped actor is
//! restarted, lookups find what runs.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use actix::Actor;
use common::*;
use moxxy_actors::provider::actor::{GetStatus, Restart};
use moxxy_actors::provider::{self, ProviderKind, ProviderState};
use moxxy_actors::supervisor::{ListProviders, Lookup, ProviderSupervisor, Remove, Upsert};
use moxxy_actors::{ApiKey, ErrorKind};
use moxxy_fake_upstream::{openai, FakeUpstream};

fn ok_reply() -> moxxy_fake_upstream::Reply {
    openai::reply(openai::completion("ok", openai::Usage::new(1, 1)))
}

#[actix::test]
async fn replacing_a_provider_keeps_the_cached_address_and_uses_the_new_key() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/chat/completions", ok_reply());
    let supervisor = ProviderSupervisor::new().start();
    let cfg = config(&fake, ProviderKind::OpenAi);
    let cached = supervisor.send(Upsert(cfg.clone())).await.unwrap().unwrap();
    provider::complete(&cached, ask("gpt-4.1", "Hi"))
        .await
        .unwrap();

    let mut new_cfg = cfg;
    new_cfg.credentials = Credentials::ApiKey(ApiKey::new("second-key-abcdefghijkl"));
    let again = supervisor.send(Upsert(new_cfg)).await.unwrap().unwrap();
    assert_eq!(again, cached, "same actor, same address");
    provider::complete(&cached, ask("gpt-4.1", "Hi"))
        .await
        .unwrap();

    let seen = fake.requests();
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {TEST_KEY}").as_str())
    );
    assert_eq!(
        seen[1].header("authorization"),
        Some("Bearer second-key-abcdefghijkl")
    );
}

#[actix::test]
async fn a_removed_provider_answers_with_a_clear_error() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/chat/completions", ok_reply());
    let supervisor = ProviderSupervisor::new().start();
    let mut cfg = config(&fake, ProviderKind::OpenAiCompatible);
    cfg.id = "xai".into();
    let cached = supervisor.send(Upsert(cfg)).await.unwrap().unwrap();
    assert!(supervisor.send(Remove("xai".into())).await.unwrap());
    assert!(supervisor
        .send(Lookup("xai".into()))
        .await
        .unwrap()
        .is_none());
    let err = provider::complete(&cached, ask("grok-3", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.message, "Provider 'xai' was removed");
    assert!(fake.requests().is_empty());
    assert!(!supervisor.send(Remove("xai".into())).await.unwrap());
}

#[actix::test]
async fn a_provider_removed_after_use_refuses_the_next_completion() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/chat/completions", ok_reply());
    let supervisor = ProviderSupervisor::new().start();
    let mut cfg = config(&fake, ProviderKind::OpenAiCompatible);
    cfg.id = "xai".into();
    let cached = supervisor.send(Upsert(cfg)).await.unwrap().unwrap();
    // This thread now keeps the provider's core (no mailbox round trip per completion)...
    provider::complete(&cached, ask("grok-3", "Hi"))
        .await
        .unwrap();
    assert!(supervisor.send(Remove("xai".into())).await.unwrap());
    // ...and must not use it once the provider is gone.
    let err = provider::complete(&cached, ask("grok-3", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Provider 'xai' was removed");
    let err = provider::stream(&cached, ask("grok-3", "Hi"))
        .await
        .err()
        .unwrap();
    assert_eq!(err.message, "Provider 'xai' was removed");
    assert_eq!(fake.requests().len(), 1);
}

#[actix::test]
async fn a_stopped_provider_actor_is_restarted_behind_the_same_address() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/chat/completions", ok_reply());
    let supervisor = ProviderSupervisor::new().start();
    let addr = supervisor
        .send(Upsert(config(&fake, ProviderKind::OpenAi)))
        .await
        .unwrap()
        .unwrap();
    addr.send(Restart).await.unwrap();
    // The supervisor restarts it; the same address answers again.
    let mut status = addr.send(GetStatus).await;
    for _ in 0..50 {
        if status.as_ref().is_ok_and(|s| s.restarts == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        status = addr.send(GetStatus).await;
    }
    let status = status.unwrap();
    assert_eq!(status.restarts, 1);
    assert_eq!(status.state, ProviderState::Ready);
    provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap();
}

#[actix::test]
async fn list_and_status_report_what_runs() {
    let fake = FakeUpstream::start().await.unwrap();
    let supervisor = ProviderSupervisor::new().start();
    let mut anthropic = config(&fake, ProviderKind::Anthropic);
    anthropic.credentials = Credentials::None;
    supervisor.send(Upsert(anthropic)).await.unwrap().unwrap();
    supervisor
        .send(Upsert(config(&fake, ProviderKind::Ollama)))
        .await
        .unwrap()
        .unwrap();
    let ids = supervisor.send(ListProviders).await.unwrap();
    assert_eq!(ids, vec!["anthropic".to_string(), "ollama".to_string()]);
    let statuses = supervisor
        .send(moxxy_actors::supervisor::StatusAll)
        .await
        .unwrap();
    assert_eq!(statuses[0].state, ProviderState::NoCredentials);
    assert_eq!(statuses[1].state, ProviderState::Ready);
}
