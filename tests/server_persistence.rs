//! What survives: providers, tokens and vault entries across a graceful restart and across
//! `kill -9` right after the 201/204 that acknowledged them (every acknowledged write is flushed
//! first); and the vault routes themselves.

#![allow(clippy::unwrap_used)]

mod e2e;

use e2e::{assert_error_shape, chat, provider, ServerOptions, TestServer};
use moxxy_fake_upstream::openai;
use serde_json::{json, Value};

const XAI_KEY: &str = "xai-persist-0123456789abLast";
const VAULT_VALUE: &str = "vault-secret-value-0123456789wxyz";

fn vault_entry(list: &Value, name: &str) -> Option<Value> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .cloned()
}

/// The Authorization header of the last upstream chat call to `route`.
fn last_auth(server: &TestServer, route: &str) -> String {
    let seen = server.fake().requests();
    let call = seen
        .iter()
        .rev()
        .find(|r| r.route() == route)
        .expect("an upstream call");
    call.header("authorization").unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_restart_keeps_providers_tokens_and_the_vault() {
    let mut server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let base = format!("{}/xai/v1", server.fake().url());
    api.post(
        "/v1/providers",
        provider("xai", &base, XAI_KEY, &["grok-3"]),
    )
    .await
    .expect(201);
    let (_, chat_token) = api.create_token("bot", &["chat"], None).await;
    api.put("/v1/vault/team-key", json!({"value": VAULT_VALUE}))
        .await
        .expect(204);
    let before = api.get("/v1/providers/xai").await.json();

    server.restart().await;

    let api = server.api(&admin);
    let after = api.get("/v1/providers/xai").await.expect(200).json();
    assert_eq!(after["models"], before["models"]);
    assert_eq!(after["auth"], before["auth"]);
    assert_eq!(after["created_at"], before["created_at"]);
    let list = api.get("/v1/tokens").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let entry =
        vault_entry(&api.get("/v1/vault").await.json(), "team-key").expect("vault entry kept");
    assert_eq!(entry["last4"], "wxyz");

    // The decrypted key still reaches the upstream, and the chat token still chats.
    server.fake().push(
        "/xai/v1/chat/completions",
        openai::reply(openai::completion("ok", openai::Usage::new(1, 1))),
    );
    server
        .api(&chat_token)
        .post("/v1/chat/completions", chat("xai/grok-3", "hi"))
        .await
        .expect(200);
    assert_eq!(
        last_auth(&server, "/xai/v1/chat/completions"),
        format!("Bearer {XAI_KEY}")
    );
}

#[tokio::test]
async fn kill_9_right_after_a_201_loses_nothing() {
    let mut server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let base = format!("{}/xai/v1", server.fake().url());

    server
        .api(&admin)
        .post(
            "/v1/providers",
            provider("xai", &base, XAI_KEY, &["grok-3"]),
        )
        .await
        .expect(201);
    server.kill9().await;
    server.restart().await;
    let xai = server
        .api(&admin)
        .get("/v1/providers/xai")
        .await
        .expect(200)
        .json();
    assert_eq!(xai["models"], json!(["grok-3"]));

    let (token_id, token) = server
        .api(&admin)
        .create_token("late", &["read"], None)
        .await;
    server.kill9().await;
    server.restart().await;
    server.api(&token).get("/v1/providers").await.expect(200);

    server
        .api(&admin)
        .put("/v1/vault/late-key", json!({"value": VAULT_VALUE}))
        .await
        .expect(204);
    server.kill9().await;
    server.restart().await;
    assert!(vault_entry(
        &server.api(&admin).get("/v1/vault").await.json(),
        "late-key"
    )
    .is_some());

    server
        .api(&admin)
        .delete(&format!("/v1/tokens/{token_id}"))
        .await
        .expect(204);
    server
        .api(&admin)
        .delete("/v1/providers/xai")
        .await
        .expect(204);
    server.kill9().await;
    server.restart().await;
    assert_eq!(
        server.api(&token).get("/v1/providers").await.status,
        401,
        "a revocation survives a crash"
    );
    assert_eq!(
        server.api(&admin).get("/v1/providers/xai").await.status,
        404,
        "a removal survives a crash"
    );
}

#[tokio::test]
async fn the_vault_lists_no_values_and_guards_entries_in_use() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);

    let resp = api
        .put("/v1/vault/xai-key", json!({"value": VAULT_VALUE}))
        .await;
    assert_eq!(resp.status, 204, "{resp}");
    let resp = api.get("/v1/vault").await;
    assert!(
        !resp.expect(200).text.contains(VAULT_VALUE),
        "a value is never listed: {resp}"
    );
    let entry = vault_entry(&resp.json(), "xai-key").expect("listed by name");
    assert_eq!(entry["last4"], "wxyz");
    assert!(
        entry["updated_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{entry}"
    );

    // A provider that takes its key from the vault sends that value upstream.
    let base = format!("{}/xai/v1", server.fake().url());
    let registration =
        json!({"name": "xai", "base_url": base, "api_key_vault": "xai-key", "models": ["grok-3"]});
    let resp = api.post("/v1/providers", registration).await;
    assert!(!resp.expect(201).text.contains(VAULT_VALUE));
    let ok = openai::reply(openai::completion("ok", openai::Usage::new(1, 1)));
    server.fake().set_default("/xai/v1/chat/completions", ok);
    api.post("/v1/chat/completions", chat("xai/grok-3", "hi"))
        .await
        .expect(200);
    assert_eq!(
        last_auth(&server, "/xai/v1/chat/completions"),
        format!("Bearer {VAULT_VALUE}")
    );

    // The listing says which providers use the entry.
    let entry = vault_entry(&api.get("/v1/vault").await.json(), "xai-key").unwrap();
    let users: Vec<&Value> = entry
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v.is_array())
        .flat_map(|v| v.as_array().unwrap())
        .collect();
    assert!(
        users.iter().any(|u| *u == "xai"),
        "the entry names its user `xai`: {entry}"
    );

    // In use: 409, and the entry stays.
    assert_error_shape(&api.delete("/v1/vault/xai-key").await, 409);
    assert!(vault_entry(&api.get("/v1/vault").await.json(), "xai-key").is_some());

    // A new value replaces the old one for the next request.
    api.put(
        "/v1/vault/xai-key",
        json!({"value": "vault-rotated-value-00000000abcd"}),
    )
    .await
    .expect(204);
    api.post("/v1/chat/completions", chat("xai/grok-3", "hi"))
        .await
        .expect(200);
    assert_eq!(
        last_auth(&server, "/xai/v1/chat/completions"),
        "Bearer vault-rotated-value-00000000abcd"
    );

    // Free again once the provider is gone.
    api.delete("/v1/providers/xai").await.expect(204);
    let resp = api.delete("/v1/vault/xai-key").await;
    assert_eq!(resp.status, 204, "{resp}");
    assert!(vault_entry(&api.get("/v1/vault").await.json(), "xai-key").is_none());

    // Naming an entry that does not exist is refused at registration.
    let dangling = json!({"name": "ghost", "base_url": base, "api_key_vault": "no-such-entry", "models": ["m"]});
    let resp = api.post("/v1/providers", dangling).await;
    assert!(matches!(resp.status, 400 | 404 | 422), "{resp}");
}
