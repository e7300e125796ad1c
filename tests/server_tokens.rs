//! `mox_` tokens end to end (API.md, Authentication): the bootstrap route, listing, scopes,
//! revocation and expiry, against the real binary.

#![allow(clippy::unwrap_used)]

mod e2e;

use std::time::Duration;

use e2e::{assert_error, assert_error_shape, chat, ServerOptions, TestServer, UNKNOWN_TOKEN};
use serde_json::json;

const NO_TOKEN: &str = "Missing or invalid API token";

#[tokio::test]
async fn bootstrap_works_only_while_no_token_exists() {
    let server = TestServer::start(ServerOptions::new()).await;

    let first = server
        .anon()
        .post("/v1/tokens", json!({"name": "admin", "scopes": ["admin"]}))
        .await;
    first.expect(201);
    let body = first.json();
    assert_eq!(body["name"], "admin");
    assert_eq!(body["scopes"], json!(["admin"]));
    assert!(
        e2e::is_mox_token(body["token"].as_str().unwrap()),
        "{first}"
    );
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(body["created_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert!(body["expires_at"].is_null(), "no expiry asked: {first}");
    let admin = body["token"].as_str().unwrap().to_owned();

    // Now a token exists: the unauthenticated route is closed.
    let second = server
        .anon()
        .post("/v1/tokens", json!({"name": "sneaky", "scopes": ["admin"]}))
        .await;
    assert_error(&second, 401, NO_TOKEN);

    // With the admin token, more can be made.
    let (_, other) = server.api(&admin).create_token("ci", &["chat"], None).await;
    assert_ne!(other, admin, "tokens are random");
}

#[tokio::test]
async fn a_list_shows_prefixes_never_tokens() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let (chat_id, chat_token) = server
        .api(&admin)
        .create_token("bot", &["chat"], None)
        .await;

    let resp = server.api(&admin).get("/v1/tokens").await;
    let list = resp.expect(200).json();
    assert_eq!(list["object"], "list");
    for token in [&admin, &chat_token] {
        assert!(
            !resp.text.contains(token.as_str()),
            "a token leaked into the list"
        );
        assert!(
            !resp.text.contains(&token[4..]),
            "a token's hex leaked into the list"
        );
    }
    let items = list["data"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{resp}");
    let bot = items.iter().find(|t| t["id"] == chat_id.as_str()).unwrap();
    assert_eq!(bot["name"], "bot");
    assert_eq!(bot["scopes"], json!(["chat"]));
    assert!(
        bot.get("token").is_none(),
        "`token` appears only at creation: {bot}"
    );
    let prefix = bot["prefix"].as_str().unwrap();
    assert!(
        prefix.starts_with("mox_") && prefix.len() < 16 && chat_token.starts_with(prefix),
        "prefix {prefix:?} is a short head of the token"
    );
    for key in ["created_at", "expires_at", "last_used_at"] {
        assert!(bot.get(key).is_some(), "list item lacks `{key}`: {bot}");
    }
}

#[tokio::test]
async fn scopes_limit_what_a_token_may_do() {
    let server =
        TestServer::start(ServerOptions::new().env("OPENAI_API_KEY", "sk-test-openai-scopes-0001"))
            .await;
    let admin = server.bootstrap_admin_token().await;
    let (_, read) = server
        .api(&admin)
        .create_token("reader", &["read"], None)
        .await;
    let (_, chat_token) = server
        .api(&admin)
        .create_token("bot", &["chat"], None)
        .await;
    let registration = e2e::provider(
        "acme",
        &format!("{}/acme/v1", server.fake().url()),
        "acme-key-0123456789",
        &["m1"],
    );

    // read: every GET of the management API, nothing else.
    let reader = server.api(&read);
    reader.get("/v1/providers").await.expect(200);
    reader.get("/v1/providers/openai").await.expect(200);
    reader.get("/v1/tokens").await.expect(200);
    reader.get("/v1/vault").await.expect(200);
    assert_error_shape(
        &reader.post("/v1/providers", registration.clone()).await,
        403,
    );
    assert_error_shape(
        &reader
            .post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
            .await,
        403,
    );
    assert_error_shape(
        &reader
            .post("/v1/tokens", json!({"name": "x", "scopes": ["admin"]}))
            .await,
        403,
    );
    assert_error_shape(
        &reader
            .put("/v1/vault/k", json!({"value": "v-0123456789"}))
            .await,
        403,
    );

    // chat: completions and models, not the management API.
    let bot = server.api(&chat_token);
    let resp = bot
        .post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
        .await;
    assert_eq!(resp.status, 200, "a chat token chats:\n{resp}");
    bot.get("/v1/models").await.expect(200);
    assert_error_shape(&bot.get("/v1/tokens").await, 403);
    assert_error_shape(&bot.post("/v1/providers", registration.clone()).await, 403);
    assert_error_shape(&bot.delete("/v1/providers/openai").await, 403);

    // admin: everything.
    server
        .api(&admin)
        .post("/v1/providers", registration)
        .await
        .expect(201);
}

#[tokio::test]
async fn a_forbidden_answer_is_the_contract_error() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let (_, read) = server
        .api(&admin)
        .create_token("reader", &["read"], None)
        .await;
    let resp = server
        .api(&read)
        .post("/v1/tokens", json!({"name": "x", "scopes": ["read"]}))
        .await;
    let error = assert_error_shape(&resp, 403);
    assert_eq!(error["type"], "permission_error", "{resp}");
}

#[tokio::test]
async fn revocation_takes_effect_at_once() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let (id, token) = server
        .api(&admin)
        .create_token("temp", &["read"], None)
        .await;
    server.api(&token).get("/v1/providers").await.expect(200);

    let resp = server.api(&admin).delete(&format!("/v1/tokens/{id}")).await;
    assert_eq!(resp.status, 204, "{resp}");
    assert!(resp.text.is_empty(), "204 has no body: {resp}");
    assert_error(
        &server.api(&token).get("/v1/providers").await,
        401,
        NO_TOKEN,
    );
    // The admin token is untouched.
    server.api(&admin).get("/v1/providers").await.expect(200);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let resp = server
        .api(&admin)
        .post(
            "/v1/tokens",
            json!({"name": "brief", "scopes": ["read"], "expires_in": 1}),
        )
        .await;
    let created = resp.expect(201).json();
    assert!(
        created["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{resp}"
    );
    let token = created["token"].as_str().unwrap().to_owned();
    server.api(&token).get("/v1/providers").await.expect(200);

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_error(
        &server.api(&token).get("/v1/providers").await,
        401,
        NO_TOKEN,
    );
}

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_get_401() {
    let server = TestServer::start(ServerOptions::new()).await;
    let _admin = server.bootstrap_admin_token().await;
    for path in ["/v1/providers", "/v1/tokens", "/v1/models"] {
        assert_error(&server.anon().get(path).await, 401, NO_TOKEN);
        assert_error(&server.api(UNKNOWN_TOKEN).get(path).await, 401, NO_TOKEN);
        assert_error(&server.api("not-a-token").get(path).await, 401, NO_TOKEN);
    }
    let resp = server
        .client()
        .get(format!("{}/v1/providers", server.url()))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "only bearer tokens count");
}

#[tokio::test]
async fn bad_token_requests_name_the_field() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);

    let resp = api
        .post("/v1/tokens", json!({"name": "x", "scopes": ["superuser"]}))
        .await;
    assert!(matches!(resp.status, 400 | 422), "{resp}");
    let error = assert_error_shape(&resp, resp.status);
    assert!(
        error["param"] == "scopes" || resp.text.contains("scopes"),
        "the error names `scopes`:\n{resp}"
    );

    let resp = api
        .post(
            "/v1/tokens",
            json!({"name": "x", "scopes": ["read"], "expires_in": "soon"}),
        )
        .await;
    assert!(matches!(resp.status, 400 | 422), "{resp}");
    assert!(
        resp.text.contains("expires_in"),
        "the error names `expires_in`:\n{resp}"
    );

    // Nothing half-made: still one token.
    let list = api.get("/v1/tokens").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}
