//! Anthropic OAuth sessions through the real binary (API.md, *Anthropic OAuth session*): PUT
//! switches to bearer + beta header, a refreshed pair survives a restart, `moxxy auth import`
//! reads Claude's credentials file, DELETE goes back to `x-api-key`, a failed refresh shows
//! `auth_failed`, and no token ever appears in a response, a log or the data directory.

#![allow(clippy::unwrap_used)]

mod e2e;

use e2e::{chat, ServerOptions, TestServer};
use moxxy_fake_upstream::{anthropic, Reply};
use serde_json::json;

const TOKEN_PATH: &str = "/v1/oauth/token";
const MESSAGES: &str = "/v1/messages";
const API_KEY: &str = "sk-ant-api03-e2e-key-0123456789KEYK";
const ACCESS: &str = "sk-ant-oat01-e2e-access-0123456789ACCS";
const REFRESH: &str = "sk-ant-ort01-e2e-refresh-0123456789REFR";
const NEW_ACCESS: &str = "sk-ant-oat01-e2e-newaccess-987654NEWA";
const NEW_REFRESH: &str = "sk-ant-ort01-e2e-newrefresh-987654NEWR";
const MODEL: &str = "anthropic/claude-sonnet-4-5";

fn ok_message() -> Reply {
    anthropic::reply(anthropic::message("hello", anthropic::Usage::new(3, 2)))
}

fn last_call(server: &TestServer) -> moxxy_fake_upstream::RecordedRequest {
    server
        .fake()
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.route() == MESSAGES)
        .expect("an upstream call")
}

async fn start() -> (TestServer, String) {
    let server = TestServer::start(ServerOptions::new().env("ANTHROPIC_API_KEY", API_KEY)).await;
    server.fake().set_default(MESSAGES, ok_message());
    let admin = server.bootstrap_admin_token().await;
    (server, admin)
}

/// No token may appear anywhere a user or an operator can read it.
fn assert_no_tokens(server: &TestServer) {
    let secrets = [ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, API_KEY];
    for seen in server.transcript() {
        for secret in secrets {
            assert!(
                !seen.body.contains(secret) && !seen.headers.contains(secret),
                "{} {} shows a token",
                seen.method,
                seen.path
            );
        }
    }
    let logs = server.logs();
    for secret in secrets {
        assert!(!logs.contains(secret), "the logs show a token");
    }
    for (path, bytes) in e2e::server::files_under(&server.data_dir()) {
        let text = String::from_utf8_lossy(&bytes);
        for secret in [ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH] {
            assert!(
                !text.contains(secret),
                "{} holds a token in clear",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn put_switches_to_bearer_and_delete_goes_back_to_the_key() {
    let (server, admin) = start().await;
    let api = server.api(&admin);

    let view = api
        .put(
            "/v1/providers/anthropic/oauth",
            json!({"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(view["auth"]["type"], "oauth");
    assert_eq!(view["auth"]["source"], "oauth");
    assert_eq!(view["auth"]["set"], true);
    assert_eq!(view["auth"]["last4"], "ACCS");

    api.post("/v1/chat/completions", chat(MODEL, "hi"))
        .await
        .expect(200);
    let call = last_call(&server);
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {ACCESS}").as_str())
    );
    assert_eq!(call.header("x-api-key"), None);
    assert!(call
        .header("anthropic-beta")
        .unwrap_or_default()
        .contains("oauth-2025-04-20"));
    assert_eq!(
        server.fake().request_count(TOKEN_PATH),
        0,
        "not near expiry"
    );

    // The session's vault entry is Moxxy's own: the vault routes neither list nor touch it.
    let listed = api.get("/v1/vault").await.expect(200).json();
    assert_eq!(listed["data"], json!([]), "{listed}");
    for refused in [
        api.put("/v1/vault/oauth:anthropic", json!({"value": "x"}))
            .await,
        api.delete("/v1/vault/oauth:anthropic").await,
    ] {
        assert_eq!(refused.status, 400, "{refused}");
        assert!(
            refused.text.contains("/v1/providers/anthropic/oauth"),
            "{refused}"
        );
    }
    api.post("/v1/chat/completions", chat(MODEL, "still"))
        .await
        .expect(200);
    assert_eq!(
        last_call(&server).header("authorization"),
        Some(format!("Bearer {ACCESS}").as_str()),
        "the session is intact"
    );

    // Bad input says what to fix.
    let bad = api
        .put(
            "/v1/providers/anthropic/oauth",
            json!({"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": "soon"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{bad}");
    assert!(bad.text.contains("expires_at"), "{bad}");

    api.delete("/v1/providers/anthropic/oauth")
        .await
        .expect(204);
    let view = api.get("/v1/providers/anthropic").await.expect(200).json();
    assert_eq!(view["auth"]["type"], "api_key");
    assert_eq!(view["auth"]["source"], "env");
    api.post("/v1/chat/completions", chat(MODEL, "hi"))
        .await
        .expect(200);
    let call = last_call(&server);
    assert_eq!(call.header("x-api-key"), Some(API_KEY));
    assert_eq!(call.header("authorization"), None);
    api.delete("/v1/providers/anthropic/oauth")
        .await
        .expect(404);
    assert_no_tokens(&server);
}

#[tokio::test]
async fn a_refreshed_pair_survives_a_restart() {
    let (mut server, admin) = start().await;
    server.fake().push(
        TOKEN_PATH,
        Reply::json(
            200,
            json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH, "expires_in": 28800}),
        ),
    );
    let api = server.api(&admin);
    // Expired (epoch milliseconds, as Claude's file has it): refreshed before the first call.
    api.put(
        "/v1/providers/anthropic/oauth",
        json!({"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": 1_000_000_000_000u64}),
    )
    .await
    .expect(200);
    api.post("/v1/chat/completions", chat(MODEL, "hi"))
        .await
        .expect(200);
    assert_eq!(server.fake().request_count(TOKEN_PATH), 1);
    let grant = server
        .fake()
        .requests()
        .into_iter()
        .find(|r| r.route() == TOKEN_PATH)
        .unwrap();
    assert_eq!(grant.json()["refresh_token"], REFRESH);
    assert_eq!(
        grant.json()["client_id"],
        "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
    );
    assert_eq!(
        last_call(&server).header("authorization"),
        Some(format!("Bearer {NEW_ACCESS}").as_str())
    );

    server.restart().await;
    let api = server.api(&admin);
    let view = api.get("/v1/providers/anthropic").await.expect(200).json();
    assert_eq!(view["auth"]["last4"], "NEWA");
    api.post("/v1/chat/completions", chat(MODEL, "hi"))
        .await
        .expect(200);
    assert_eq!(
        last_call(&server).header("authorization"),
        Some(format!("Bearer {NEW_ACCESS}").as_str())
    );
    assert_eq!(server.fake().request_count(TOKEN_PATH), 1, "no new refresh");
    assert_no_tokens(&server);
}

#[tokio::test]
async fn a_failed_refresh_shows_auth_failed() {
    let (server, admin) = start().await;
    server.fake().set_default(
        TOKEN_PATH,
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "Refresh token revoked"}),
        ),
    );
    let api = server.api(&admin);
    api.put(
        "/v1/providers/anthropic/oauth",
        json!({"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": "1000000000000"}),
    )
    .await
    .expect(200);
    let resp = api.post("/v1/chat/completions", chat(MODEL, "hi")).await;
    assert_eq!(resp.status, 401, "{resp}");
    let message = resp.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("Anthropic OAuth refresh failed: Refresh token revoked"),
        "{message}"
    );
    assert!(message.contains("moxxy auth import FILE"), "{message}");
    let view = api.get("/v1/providers/anthropic").await.expect(200).json();
    assert_eq!(view["status"]["state"], "auth_failed");
    assert!(view["status"]["detail"]
        .as_str()
        .unwrap()
        .contains("Refresh token revoked"));
    assert_eq!(server.fake().request_count(MESSAGES), 0);
    assert_no_tokens(&server);
}

#[tokio::test]
async fn auth_import_reads_claudes_credentials_file() {
    let (server, admin) = start().await;
    let file = server.data_dir().with_file_name("credentials.json");
    std::fs::write(
        &file,
        json!({"claudeAiOauth": {"accessToken": ACCESS, "refreshToken": REFRESH,
            "expiresAt": 4_102_444_800_000u64, "scopes": ["user:inference"]}})
        .to_string(),
    )
    .unwrap();
    let url = server.url().to_owned();
    let out = server
        .cli(
            &["auth", "import", file.to_str().unwrap()],
            &[("MOXXY_URL", url.as_str()), ("MOXXY_TOKEN", admin.as_str())],
        )
        .await;
    out.expect_success();
    for secret in [ACCESS, REFRESH] {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
    }
    let api = server.api(&admin);
    let view = api.get("/v1/providers/anthropic").await.expect(200).json();
    assert_eq!(view["auth"]["type"], "oauth");
    api.post("/v1/chat/completions", chat(MODEL, "hi"))
        .await
        .expect(200);
    assert_eq!(
        last_call(&server).header("authorization"),
        Some(format!("Bearer {ACCESS}").as_str())
    );

    // A file that is not Claude's says what it expected.
    std::fs::write(&file, "{}").unwrap();
    let out = server
        .cli(
            &["auth", "import", file.to_str().unwrap()],
            &[("MOXXY_URL", url.as_str()), ("MOXXY_TOKEN", admin.as_str())],
        )
        .await;
    assert!(!out.status.success());
    assert!(out.stderr.contains("claudeAiOauth.accessToken"), "{out}");
    assert_no_tokens(&server);
}
