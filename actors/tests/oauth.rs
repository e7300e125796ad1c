//! Anthropic OAuth sessions against the fake upstream: refresh before expiry, one refresh and one
//! retry after a 401, a single refresh for concurrent requests, the rotated pair persisted before
//! it is used, and a failed refresh that says what to do and never shows a token.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use common::*;
use moxxy_actors::provider::actor::GetStatus;
use moxxy_actors::provider::{
    self, CredentialSink, OAuthClient, OAuthSession, OAuthTokens, ProviderKind, ProviderState,
};
use moxxy_actors::{ApiKey, ErrorKind};
use moxxy_fake_upstream::{anthropic, FakeUpstream, Reply};
use serde_json::json;

const TOKEN_PATH: &str = "/v1/oauth/token";
const MESSAGES: &str = "/v1/messages";
const OLD_ACCESS: &str = "sk-ant-oat01-old-access-0123456789";
const OLD_REFRESH: &str = "sk-ant-ort01-old-refresh-0123456789";
const NEW_ACCESS: &str = "sk-ant-oat01-new-access-9876543210";
const NEW_REFRESH: &str = "sk-ant-ort01-new-refresh-9876543210";
const CLIENT_ID: &str = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
const MODEL: &str = "claude-sonnet-4-5";

/// A sink that records what it was given and when.
#[derive(Default)]
struct RecordingSink {
    seen: Mutex<Vec<(Instant, String, String)>>,
}

impl CredentialSink for RecordingSink {
    fn persist(&self, provider: &str, tokens: &OAuthTokens) -> Result<(), String> {
        assert_eq!(provider, "anthropic");
        self.seen.lock().unwrap().push((
            Instant::now(),
            tokens.access_token.expose().to_string(),
            tokens.refresh_token.expose().to_string(),
        ));
        Ok(())
    }
}

fn session(
    fake: &FakeUpstream,
    expires_in: Duration,
    expired: bool,
    sink: Arc<RecordingSink>,
) -> Arc<OAuthSession> {
    let now = SystemTime::now();
    let expires_at = if expired {
        now - expires_in
    } else {
        now + expires_in
    };
    OAuthSession::new(
        OAuthTokens {
            access_token: ApiKey::new(OLD_ACCESS),
            refresh_token: ApiKey::new(OLD_REFRESH),
            expires_at,
        },
        OAuthClient {
            token_url: format!("{}{TOKEN_PATH}", fake.url()),
            client_id: CLIENT_ID.into(),
        },
        Some(sink),
    )
}

fn oauth_config(fake: &FakeUpstream, session: Arc<OAuthSession>) -> provider::ProviderConfig {
    config(fake, ProviderKind::Anthropic).with_credentials(Credentials::OAuth(session))
}

fn rotated() -> Reply {
    Reply::json(
        200,
        json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH, "expires_in": 28800, "token_type": "Bearer"}),
    )
}

fn ok_message() -> Reply {
    anthropic::reply(anthropic::message("hello", anthropic::Usage::new(3, 2)))
}

fn bearers(fake: &FakeUpstream) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|r| r.route() == MESSAGES)
        .map(|r| r.header("authorization").unwrap_or_default().to_string())
        .collect()
}

#[actix::test]
async fn an_expired_token_is_refreshed_before_the_call() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(TOKEN_PATH, rotated());
    fake.set_default(MESSAGES, ok_message());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(10), true, Arc::clone(&sink));
    let addr = start(oauth_config(&fake, Arc::clone(&session))).await;

    let (answer, _) = provider::complete(&addr, ask(MODEL, "Hi")).await.unwrap();
    assert_eq!(answer.text(), "hello");

    let seen = fake.requests();
    assert_eq!(seen.len(), 2, "one refresh, then the call");
    let grant = &seen[0];
    assert_eq!(grant.route(), TOKEN_PATH);
    assert_eq!(grant.method, "POST");
    assert_eq!(
        grant.json(),
        json!({"grant_type": "refresh_token", "refresh_token": OLD_REFRESH, "client_id": CLIENT_ID})
    );
    assert_eq!(grant.header("anthropic-beta"), Some("oauth-2025-04-20"));
    assert!(grant
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));

    let call = &seen[1];
    assert_eq!(call.route(), MESSAGES);
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {NEW_ACCESS}").as_str())
    );
    assert_eq!(call.header("x-api-key"), None, "never with x-api-key");
    assert!(call
        .header("anthropic-beta")
        .unwrap()
        .split(',')
        .any(|f| f.trim() == "oauth-2025-04-20"));

    let tokens = session.tokens();
    assert_eq!(tokens.access_token.expose(), NEW_ACCESS);
    assert_eq!(tokens.refresh_token.expose(), NEW_REFRESH);
    let left = tokens.expires_at.duration_since(SystemTime::now()).unwrap();
    assert!(
        left > Duration::from_secs(28000),
        "expires_in honoured: {left:?}"
    );

    // A fresh token is not refreshed again.
    provider::complete(&addr, ask(MODEL, "Again"))
        .await
        .unwrap();
    assert_eq!(fake.request_count(TOKEN_PATH), 1);
}

#[actix::test]
async fn a_token_near_expiry_is_refreshed_and_a_missing_rotation_keeps_the_refresh_token() {
    let fake = FakeUpstream::start().await.unwrap();
    // No refresh_token, no expires_in: keep the old refresh token, assume an hour.
    fake.push(
        TOKEN_PATH,
        Reply::json(200, json!({"access_token": NEW_ACCESS})),
    );
    fake.set_default(MESSAGES, ok_message());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(60), false, Arc::clone(&sink));
    let addr = start(oauth_config(&fake, Arc::clone(&session))).await;

    provider::complete(&addr, ask(MODEL, "Hi")).await.unwrap();
    assert_eq!(
        fake.request_count(TOKEN_PATH),
        1,
        "60 s left is within the margin"
    );
    assert_eq!(bearers(&fake), vec![format!("Bearer {NEW_ACCESS}")]);
    let tokens = session.tokens();
    assert_eq!(tokens.refresh_token.expose(), OLD_REFRESH);
    let left = tokens.expires_at.duration_since(SystemTime::now()).unwrap();
    assert!(
        left > Duration::from_secs(3500) && left <= Duration::from_secs(3600),
        "{left:?}"
    );
    let persisted = sink.seen.lock().unwrap().clone();
    assert_eq!(persisted.len(), 1);
    assert_eq!(persisted[0].2, OLD_REFRESH);
}

#[actix::test]
async fn a_401_triggers_exactly_one_refresh_and_one_retry() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(TOKEN_PATH, rotated());
    fake.push(MESSAGES, anthropic::authentication_error());
    fake.push(MESSAGES, ok_message());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(3600), false, sink);
    let addr = start(oauth_config(&fake, session)).await;

    let (answer, _) = provider::complete(&addr, ask(MODEL, "Hi")).await.unwrap();
    assert_eq!(answer.text(), "hello");
    assert_eq!(fake.request_count(TOKEN_PATH), 1);
    assert_eq!(
        bearers(&fake),
        vec![
            format!("Bearer {OLD_ACCESS}"),
            format!("Bearer {NEW_ACCESS}")
        ]
    );
}

#[actix::test]
async fn a_second_401_is_not_refreshed_again() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default(TOKEN_PATH, rotated());
    fake.set_default(MESSAGES, anthropic::authentication_error());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(3600), false, sink);
    let addr = start(oauth_config(&fake, session)).await;

    let Err(err) = provider::stream(&addr, ask(MODEL, "Hi")).await else {
        panic!("a second 401 is an error");
    };
    assert_eq!(err.kind, ErrorKind::Authentication);
    assert_eq!(fake.request_count(TOKEN_PATH), 1, "one refresh");
    assert_eq!(fake.request_count(MESSAGES), 2, "one retry");
}

#[actix::test]
async fn ten_concurrent_requests_with_an_expired_token_share_one_refresh() {
    let fake = FakeUpstream::start().await.unwrap();
    // Slow enough that every request arrives while the refresh is under way.
    fake.set_default(TOKEN_PATH, rotated().delayed(Duration::from_millis(300)));
    fake.set_default(MESSAGES, ok_message());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(10), true, Arc::clone(&sink));
    let addr = start(oauth_config(&fake, session)).await;

    let calls = (0..10).map(|i| {
        let addr = addr.clone();
        async move { provider::complete(&addr, ask(MODEL, &format!("Hi {i}"))).await }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.request_count(TOKEN_PATH), 1, "single flight");
    assert_eq!(sink.seen.lock().unwrap().len(), 1);
    let bearers = bearers(&fake);
    assert_eq!(bearers.len(), 10);
    assert!(bearers.iter().all(|b| *b == format!("Bearer {NEW_ACCESS}")));
}

#[actix::test]
async fn the_rotated_pair_is_persisted_before_it_is_used() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(TOKEN_PATH, rotated());
    fake.set_default(MESSAGES, ok_message());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(10), true, Arc::clone(&sink));
    let addr = start(oauth_config(&fake, session)).await;

    provider::complete(&addr, ask(MODEL, "Hi")).await.unwrap();
    let persisted = sink.seen.lock().unwrap().clone();
    assert_eq!(persisted.len(), 1);
    let (at, access, refresh) = &persisted[0];
    assert_eq!(access, NEW_ACCESS);
    assert_eq!(refresh, NEW_REFRESH);
    let call = fake
        .requests()
        .into_iter()
        .find(|r| r.route() == MESSAGES)
        .unwrap();
    assert!(
        *at < call.received_at,
        "persisted before the upstream saw the new token"
    );
}

#[actix::test]
async fn a_failed_refresh_says_what_to_do_and_reports_auth_failed() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default(
        TOKEN_PATH,
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": format!("Refresh token {OLD_REFRESH} was revoked")}),
        ),
    );
    fake.set_default(MESSAGES, ok_message());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(10), true, Arc::clone(&sink));
    let addr = start(oauth_config(&fake, session)).await;

    let err = provider::complete(&addr, ask(MODEL, "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Authentication);
    assert_eq!(err.provider.as_deref(), Some("anthropic"));
    assert!(
        err.message.starts_with("Anthropic OAuth refresh failed: "),
        "{}",
        err.message
    );
    assert!(err.message.contains("was revoked"), "{}", err.message);
    assert!(
        err.message
            .ends_with("- import new credentials with moxxy auth import FILE"),
        "{}",
        err.message
    );
    for secret in [OLD_ACCESS, OLD_REFRESH, "old-refresh-0123"] {
        assert!(!err.message.contains(secret), "{}", err.message);
    }
    assert_eq!(fake.request_count(MESSAGES), 0, "no call without a token");
    assert!(sink.seen.lock().unwrap().is_empty());

    let status = addr.send(GetStatus).await.unwrap();
    let debug = format!("{status:?}");
    assert!(!debug.contains("old-refresh-0123"), "{debug}");
    match status.state {
        ProviderState::AuthFailed { reason } => {
            assert!(reason.contains("was revoked"), "{reason}");
            assert!(!reason.contains("old-refresh-0123"), "{reason}");
            assert!(!reason.contains("old-access-0123"), "{reason}");
        }
        other => panic!("expected AuthFailed, got {other:?}"),
    }
}

#[actix::test]
async fn a_later_successful_refresh_clears_auth_failed() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        TOKEN_PATH,
        Reply::json(500, json!({"error": "server_error"})),
    );
    fake.push(TOKEN_PATH, rotated());
    fake.set_default(MESSAGES, ok_message());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(10), true, sink);
    let addr = start(oauth_config(&fake, session)).await;

    provider::complete(&addr, ask(MODEL, "Hi"))
        .await
        .unwrap_err();
    assert!(matches!(
        addr.send(GetStatus).await.unwrap().state,
        ProviderState::AuthFailed { .. }
    ));
    provider::complete(&addr, ask(MODEL, "Hi")).await.unwrap();
    assert_eq!(
        addr.send(GetStatus).await.unwrap().state,
        ProviderState::Ready
    );
}

#[actix::test]
async fn the_model_list_is_asked_with_the_refreshed_bearer_token() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(TOKEN_PATH, rotated());
    fake.push(
        "/v1/models",
        Reply::json(200, anthropic::models_page(&[MODEL], false)),
    );
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(10), true, sink);
    let addr = start(oauth_config(&fake, session)).await;

    let ids = provider::list_models(&addr).await.unwrap();

    assert_eq!(ids, [MODEL]);
    let listed = fake
        .requests()
        .into_iter()
        .find(|r| r.route() == "/v1/models")
        .unwrap();
    assert_eq!(
        listed.header("authorization"),
        Some(format!("Bearer {NEW_ACCESS}").as_str())
    );
    assert_eq!(listed.header("x-api-key"), None, "never with x-api-key");
}

/// Found while checking huge numbers at every input: a token endpoint's `expires_in` was added
/// to the clock unchecked, and `u64::MAX` seconds panicked the request.
#[actix::test]
async fn a_huge_expires_in_from_the_token_endpoint_is_bounded_not_a_panic() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        TOKEN_PATH,
        Reply::json(
            200,
            json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH,
                   "expires_in": u64::MAX, "token_type": "Bearer"}),
        ),
    );
    fake.set_default(MESSAGES, ok_message());
    let sink = Arc::new(RecordingSink::default());
    let session = session(&fake, Duration::from_secs(10), true, Arc::clone(&sink));
    let addr = start(oauth_config(&fake, Arc::clone(&session))).await;

    let (answer, _) = provider::complete(&addr, ask(MODEL, "Hi")).await.unwrap();
    assert_eq!(answer.text(), "hello");
    assert_eq!(bearers(&fake), [format!("Bearer {NEW_ACCESS}")]);
    // A second call needs no refresh: the new token is good for a long time.
    provider::complete(&addr, ask(MODEL, "Hi")).await.unwrap();
    assert_eq!(fake.request_count(TOKEN_PATH), 1);
}
