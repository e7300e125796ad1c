//! No secret ever leaves in clear: one session that uses every kind of secret — provider keys
//! from the environment, a key given at registration and one set by PATCH, a vault value, a key
//! read from a named variable, an OAuth session imported by PUT and the pair its refresh rotates
//! to, the `mox_` tokens and the master key — with `RUST_LOG=trace`, through both completion
//! endpoints, plain and streamed, including upstream errors that echo the key back (in the
//! message, in `param`, in a stream's error event, in a model list's error). Then none of them
//! may appear in any response (headers or body; a token only in its own creation answer), in the
//! logs, on stdout, or in any file under the data directory (raw bytes).
//!
//! And an upstream that redirects never gets the key carried to the host it names.

#![allow(clippy::unwrap_used)]

mod e2e;

use base64::Engine as _;
use e2e::server::files_under;
use e2e::{chat, chat_stream, provider, ServerOptions, TestServer, MASTER_KEY};
use moxxy_fake_upstream::{anthropic, openai, Reply};
use serde_json::{json, Value};

const ANTHROPIC_KEY: &str = "sk-ant-secret-anthropic-9f8e7d6c5b4a";
const OPENAI_KEY: &str = "sk-secret-openai-1a2b3c4d5e6f7g8h";
const REGISTERED_KEY: &str = "xai-secret-registered-0a1b2c3d4e";
const PATCHED_KEY: &str = "xai-secret-patched-9z8y7x6w5v";
const VAULT_VALUE: &str = "vault-secret-value-5u4t3s2r1q";
const ENV_KEY: &str = "acme-secret-env-key-7p6o5n4m";
const OAUTH_ACCESS: &str = "sk-ant-oat01-secret-imported-access-3k2j1h";
const OAUTH_REFRESH: &str = "sk-ant-ort01-secret-imported-refresh-8g7f6e";
const OAUTH_NEW_ACCESS: &str = "sk-ant-oat01-secret-rotated-access-5d4c3b";
const OAUTH_NEW_REFRESH: &str = "sk-ant-ort01-secret-rotated-refresh-2a1z0y";

/// Runs the session; returns the `mox_` tokens it was given.
async fn session(server: &TestServer) -> Vec<String> {
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let (_, chat_token) = api.create_token("bot", &["chat"], None).await;
    let (read_id, read_token) = api.create_token("reader", &["read"], Some(3600)).await;
    let reader = server.api(&read_token);
    let fake = server.fake();
    let url = fake.url();
    let ok = || openai::reply(openai::completion("ok", openai::Usage::new(2, 1)));
    let streamed = || {
        Reply::sse(openai::stream_text(
            "m",
            &["o", "k"],
            Some(openai::Usage::new(2, 1)),
        ))
    };
    for route in [
        "/xai/v1/chat/completions",
        "/vaulted/v1/chat/completions",
        "/acme/v1/chat/completions",
    ] {
        fake.set_default(route, Reply::if_stream(streamed(), ok()));
    }

    // A key given at registration, then replaced by PATCH.
    api.post(
        "/v1/providers",
        provider("xai", &format!("{url}/xai/v1"), REGISTERED_KEY, &["grok-3"]),
    )
    .await
    .expect(201);
    let bot = server.api(&chat_token);
    bot.post("/v1/chat/completions", chat("xai/grok-3", "hi"))
        .await
        .expect(200);
    bot.post(
        "/v1/chat/completions",
        chat_stream("xai/grok-3", "hi", true),
    )
    .await
    .expect(200);
    api.patch("/v1/providers/xai", json!({"api_key": PATCHED_KEY}))
        .await
        .expect(200);
    bot.post("/v1/chat/completions", chat("xai/grok-3", "hi"))
        .await
        .expect(200);

    // A vault value, and a key read from a named variable.
    api.put("/v1/vault/team", json!({"value": VAULT_VALUE}))
        .await
        .expect(204);
    let vaulted = json!({"name": "vaulted", "base_url": format!("{url}/vaulted/v1"), "api_key_vault": "team", "models": ["m"]});
    api.post("/v1/providers", vaulted).await.expect(201);
    let from_env = json!({"name": "acme", "base_url": format!("{url}/acme/v1"), "api_key_env": "ACME_SECRET_KEY", "models": ["m"]});
    api.post("/v1/providers", from_env).await.expect(201);
    bot.post("/v1/chat/completions", chat("vaulted/m", "hi"))
        .await
        .expect(200);
    bot.post("/v1/chat/completions", chat_stream("acme/m", "hi", false))
        .await
        .expect(200);

    // The built-ins' keys from the environment, plain and streamed.
    bot.post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
        .await
        .expect(200);
    bot.post(
        "/v1/chat/completions",
        chat_stream("anthropic/claude-haiku-4-5-20251001", "hi", true),
    )
    .await
    .expect(200);

    // Upstream errors that echo the key back must not carry it any further.
    let echo = format!("Incorrect API key provided: {OPENAI_KEY}. You can find your API key at https://example.invalid.");
    fake.push(
        "/v1/chat/completions",
        openai::error(401, "invalid_request_error", Some("invalid_api_key"), &echo),
    );
    assert_eq!(
        bot.post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
            .await
            .status,
        401
    );
    fake.push(
        "/v1/messages",
        anthropic::error(
            400,
            "invalid_request_error",
            &format!("bad header x-api-key: {ANTHROPIC_KEY}"),
        ),
    );
    let resp = bot
        .post(
            "/v1/chat/completions",
            chat("anthropic/claude-haiku-4-5-20251001", "hi"),
        )
        .await;
    assert!(resp.status >= 400, "{resp}");
    // Retried (a 500 is retryable): every attempt answers the same.
    fake.push_n(
        "/xai/v1/chat/completions",
        3,
        Reply::bytes(
            500,
            "text/html",
            format!("<html>proxy error for Bearer {PATCHED_KEY}</html>"),
        ),
    );
    assert!(
        bot.post("/v1/chat/completions", chat("xai/grok-3", "hi"))
            .await
            .status
            >= 500
    );

    // The Anthropic-compatible endpoint, plain and streamed, its token in x-api-key.
    let messages = |stream: bool| {
        json!({"model": "openai/gpt-4.1-mini", "max_tokens": 16, "stream": stream,
               "messages": [{"role": "user", "content": "hi"}]})
    };
    for stream in [false, true] {
        let resp = bot
            .request(reqwest::Method::POST, "/v1/messages")
            .header("x-api-key", &chat_token)
            .json(&messages(stream))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        bot.post("/v1/messages", messages(stream)).await.expect(200);
    }
    // The key echoed in an error's `param`, in a stream's error event after some text, and by
    // a custom provider on /v1/messages.
    fake.push(
        "/v1/chat/completions",
        Reply::json(
            400,
            json!({"error": {"message": "bad", "type": "invalid_request_error", "param": OPENAI_KEY, "code": null}}),
        ),
    );
    let resp = bot
        .post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
        .await;
    assert_eq!(resp.status, 400, "{resp}");
    let mut broken = openai::stream_text("m", &["o", "k"], None);
    broken.truncate(2);
    broken.push(openai::error_chunk(
        "server_error",
        None,
        &format!("upstream failed for key {OPENAI_KEY}"),
    ));
    fake.push("/v1/chat/completions", Reply::sse(broken));
    let resp = bot
        .post(
            "/v1/chat/completions",
            chat_stream("openai/gpt-4.1-mini", "hi", false),
        )
        .await;
    assert!(resp.text.contains("upstream failed for key"), "{resp}");
    fake.push(
        "/xai/v1/chat/completions",
        openai::error(
            403,
            "permission_error",
            None,
            &format!("key {PATCHED_KEY} may not use this model"),
        ),
    );
    let xai = json!({"model": "xai/grok-3", "max_tokens": 16,
                     "messages": [{"role": "user", "content": "hi"}]});
    // An upstream 403 is documented as a rejected key: 401.
    assert_eq!(bot.post("/v1/messages", xai).await.status, 401);

    // Model lists asked upstream, whose errors echo the key: a built-in's is logged and falls
    // back to its static list; a custom provider's is returned.
    fake.push(
        "/v1/models",
        openai::error(
            400,
            "invalid_request_error",
            None,
            &format!("Listing refused for {OPENAI_KEY}"),
        ),
    );
    api.get("/v1/providers/openai/models?refresh=upstream")
        .await
        .expect(200);
    fake.push(
        "/xai/v1/models",
        openai::error(
            400,
            "invalid_request_error",
            None,
            &format!("Listing refused for {PATCHED_KEY}"),
        ),
    );
    let resp = api.get("/v1/providers/xai/models?refresh=upstream").await;
    assert!(resp.text.contains("Listing refused for *****"), "{resp}");

    // An OAuth session imported by PUT, already expired: the first call refreshes it, and the
    // rotated pair is stored and used; then back to the API key.
    fake.push(
        "/v1/oauth/token",
        Reply::json(
            200,
            json!({"access_token": OAUTH_NEW_ACCESS, "refresh_token": OAUTH_NEW_REFRESH,
                   "expires_in": 28800, "token_type": "Bearer"}),
        ),
    );
    api.put(
        "/v1/providers/anthropic/oauth",
        json!({"access_token": OAUTH_ACCESS, "refresh_token": OAUTH_REFRESH,
               "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await
    .expect(200);
    bot.post(
        "/v1/chat/completions",
        chat("anthropic/claude-haiku-4-5-20251001", "hi"),
    )
    .await
    .expect(200);
    let streamed = json!({"model": "anthropic/claude-haiku-4-5-20251001", "max_tokens": 16,
                          "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    bot.post("/v1/messages", streamed).await.expect(200);
    reader.get("/v1/providers/anthropic").await.expect(200);
    api.delete("/v1/providers/anthropic/oauth")
        .await
        .expect(204);

    // Every read the management API offers.
    for path in [
        "/v1/providers",
        "/v1/providers/xai",
        "/v1/providers/vaulted",
        "/v1/providers/acme",
        "/v1/providers/xai/models",
        "/v1/tokens",
        "/v1/vault",
        "/metrics",
    ] {
        reader.get(path).await.expect(200);
    }
    bot.get("/v1/models").await.expect(200);
    // A token sent to the wrong place, and a revocation.
    server
        .api(&format!("{read_token}x"))
        .get("/v1/providers")
        .await
        .expect(401);
    api.delete(&format!("/v1/tokens/{read_id}"))
        .await
        .expect(204);
    vec![admin, chat_token, read_token]
}

/// Each secret as bytes to look for, with a name for the failure message.
fn needles(tokens: &[String]) -> Vec<(String, Vec<u8>)> {
    let mut needles: Vec<(String, Vec<u8>)> = [
        ANTHROPIC_KEY,
        OPENAI_KEY,
        REGISTERED_KEY,
        PATCHED_KEY,
        VAULT_VALUE,
        ENV_KEY,
        MASTER_KEY,
        OAUTH_ACCESS,
        OAUTH_REFRESH,
        OAUTH_NEW_ACCESS,
        OAUTH_NEW_REFRESH,
    ]
    .iter()
    .map(|s| (s.to_string(), s.as_bytes().to_vec()))
    .collect();
    for token in tokens {
        needles.push((format!("token {}…", &token[..8]), token.as_bytes().to_vec()));
        needles.push((
            format!("hex of token {}…", &token[..8]),
            token.as_bytes()[4..].to_vec(),
        ));
    }
    let raw_master = base64::engine::general_purpose::STANDARD
        .decode(MASTER_KEY)
        .unwrap();
    needles.push(("the master key's raw bytes".to_owned(), raw_master));
    needles
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_clean(place: &str, haystack: &[u8], needles: &[(String, Vec<u8>)]) {
    for (name, needle) in needles {
        assert!(!contains(haystack, needle), "{name} leaked into {place}");
    }
}

#[tokio::test]
async fn no_secret_appears_in_responses_logs_or_files() {
    let options = ServerOptions::new()
        .rust_log("trace")
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ACME_SECRET_KEY", ENV_KEY);
    let mut server = TestServer::start(options).await;
    let tokens = session(&server).await;
    // A graceful stop flushes the logs and the store; a restart shows the store still opens.
    server.restart().await;
    server
        .api(&tokens[0])
        .get("/v1/providers")
        .await
        .expect(200);
    assert!(server.stop().await.success());
    let needles = needles(&tokens);

    // Every provider secret was really in play: the upstream received each one (the OAuth
    // refresh token in the body of the refresh).
    let sent: String = server
        .fake()
        .requests()
        .iter()
        .flat_map(|r| {
            let mut seen: Vec<String> = r.headers.iter().map(|(_, value)| value.clone()).collect();
            seen.push(r.text());
            seen
        })
        .collect();
    for key in [
        ANTHROPIC_KEY,
        OPENAI_KEY,
        REGISTERED_KEY,
        PATCHED_KEY,
        VAULT_VALUE,
        ENV_KEY,
        OAUTH_REFRESH,
        OAUTH_NEW_ACCESS,
    ] {
        assert!(sent.contains(key), "the session never used {key}");
    }

    for seen in server.transcript() {
        let mut body = seen.body.clone();
        // A token appears in exactly one place: the answer that created it.
        if seen.method == "POST" && seen.path == "/v1/tokens" && seen.status == 201 {
            let mut created: Value = serde_json::from_str(&body).unwrap();
            created["token"] = Value::Null;
            body = created.to_string();
        }
        let place = format!(
            "the response to {} {} ({})",
            seen.method, seen.path, seen.status
        );
        assert_clean(&place, seen.headers.as_bytes(), &needles);
        assert_clean(&place, body.as_bytes(), &needles);
    }

    let logs = server.logs();
    assert!(
        logs.lines().count() > 10,
        "trace logging should have said something:\n{logs}"
    );
    // The echoed keys did reach the log, masked: the model list's error is logged.
    assert!(
        logs.contains("Listing refused for *****"),
        "the model list's echoing error should be in the log, redacted"
    );
    assert_clean("the logs (stderr)", logs.as_bytes(), &needles);
    assert_clean("stdout", server.stdout().as_bytes(), &needles);

    let files = files_under(&server.data_dir());
    assert!(
        !files.is_empty(),
        "the store wrote nothing under the data directory"
    );
    for (path, bytes) in files {
        assert_clean(&format!("the file {}", path.display()), &bytes, &needles);
    }
}

/// A redirect from an upstream is never followed: the key's header would go to whatever host the
/// upstream names. For each redirect status and each kind of provider with a key, the host the
/// redirect names sees nothing, and the client gets an error.
#[tokio::test]
async fn an_upstream_redirect_never_carries_the_key_to_another_host() {
    let fake = moxxy_fake_upstream::FakeUpstream::start().await.unwrap();
    let elsewhere = moxxy_fake_upstream::FakeUpstream::start().await.unwrap();
    let options = ServerOptions::new()
        .upstream(&fake)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        .env("OPENAI_API_KEY", OPENAI_KEY);
    let server = TestServer::start(options).await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    api.post(
        "/v1/providers",
        provider(
            "xai",
            &format!("{}/xai/v1", fake.url()),
            REGISTERED_KEY,
            &["grok-3"],
        ),
    )
    .await
    .expect(201);
    let targets = [
        ("openai/gpt-4.1-mini", "/v1/chat/completions"),
        ("anthropic/claude-haiku-4-5-20251001", "/v1/messages"),
        ("xai/grok-3", "/xai/v1/chat/completions"),
    ];
    let mut tried = 0;
    for status in [301, 302, 303, 307, 308] {
        for (model, path) in targets {
            let location = format!("{}{path}", elsewhere.url());
            fake.clear_script();
            fake.set_default(
                path,
                Reply::json(status, json!({})).header("location", &location),
            );
            for stream in [false, true] {
                let body = if stream {
                    chat_stream(model, "hi", false)
                } else {
                    chat(model, "hi")
                };
                let resp = api.post("/v1/chat/completions", body).await;
                assert!(
                    resp.status >= 400,
                    "{status} from {model}: the client gets an error: {resp}"
                );
                tried += 1;
            }
        }
    }
    assert_eq!(tried, 30);
    assert!(
        elsewhere.requests().is_empty(),
        "the host a redirect named was called: {:?}",
        elsewhere.requests()
    );
    // The upstream itself did see the requests, with their keys: the redirect was its answer.
    let sent: String = fake
        .requests()
        .iter()
        .flat_map(|r| r.headers.iter().map(|(_, v)| v.clone()))
        .collect();
    for key in [OPENAI_KEY, ANTHROPIC_KEY, REGISTERED_KEY] {
        assert!(
            sent.contains(key),
            "the redirecting upstream was asked with {key}"
        );
    }
}
