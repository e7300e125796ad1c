//! The documented error messages, word for word (API.md, Errors), through the real binary:
//! upstream 401, 429 with Retry-After, unknown models, Ollama down, no credentials, missing
//! token, bad input — each with the contract's JSON shape and `x-request-id` = `request_id`.

#![allow(clippy::unwrap_used)]

mod e2e;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use e2e::{
    assert_error, assert_error_shape, chat, chat_stream, provider, ServerOptions, TestServer,
};
use moxxy_fake_upstream::{anthropic, openai, Canned, FakeUpstream};
use serde_json::json;

const AUTH_FAILED: &str = "Authentication failed - check your API key";

async fn start(options: ServerOptions) -> (TestServer, String) {
    let server = TestServer::start(options).await;
    let admin = server.bootstrap_admin_token().await;
    (server, admin)
}

fn keys() -> ServerOptions {
    ServerOptions::new()
        .env("OPENAI_API_KEY", "sk-test-openai-errors-000001")
        .env("ANTHROPIC_API_KEY", "sk-ant-test-errors-00000001")
}

#[tokio::test]
async fn an_upstream_that_rejects_the_key_is_401_authentication_failed() {
    let (server, admin) = start(keys()).await;
    let api = server.api(&admin);
    server
        .fake()
        .push("/v1/chat/completions", openai::invalid_api_key());
    let resp = api
        .post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
        .await;
    let error = assert_error(&resp, 401, AUTH_FAILED);
    assert_eq!(error["type"], "authentication_error");
    assert_eq!(error["provider"], "openai");

    server
        .fake()
        .push("/v1/messages", anthropic::authentication_error());
    let resp = api
        .post(
            "/v1/chat/completions",
            chat("anthropic/claude-haiku-4-5-20251001", "hi"),
        )
        .await;
    let error = assert_error(&resp, 401, AUTH_FAILED);
    assert_eq!(error["provider"], "anthropic");

    // Streamed: the error comes before the first byte, so it is still a proper HTTP error.
    server
        .fake()
        .push("/v1/chat/completions", openai::invalid_api_key());
    let resp = api
        .post(
            "/v1/chat/completions",
            chat_stream("openai/gpt-4.1-mini", "hi", false),
        )
        .await;
    assert_error(&resp, 401, AUTH_FAILED);
}

#[tokio::test]
async fn an_upstream_429_after_retries_is_429_with_retry_after() {
    let (server, admin) = start(keys()).await;
    let fake = server.fake();
    // Two retries (three attempts) by default, then the client gets the 429.
    fake.push_n(
        "/v1/chat/completions",
        3,
        openai::rate_limited(Duration::from_millis(50)),
    );
    let resp = server
        .api(&admin)
        .post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
        .await;
    let error = assert_error(&resp, 429, "Rate limit exceeded");
    assert_eq!(error["type"], "rate_limit_error");
    assert_eq!(error["provider"], "openai");
    let retry_after: u64 = resp
        .header("retry-after")
        .expect("Retry-After on a 429")
        .parse()
        .expect("whole seconds");
    assert!(retry_after >= 1, "{resp}");
    assert_eq!(
        fake.request_count("/v1/chat/completions"),
        3,
        "2 retries, 3 attempts"
    );
}

#[tokio::test]
async fn a_long_retry_hint_is_passed_on_without_waiting() {
    let (server, admin) = start(keys()).await;
    server
        .fake()
        .push_n("/v1/messages", 3, anthropic::rate_limited(120));
    let started = std::time::Instant::now();
    let resp = server
        .api(&admin)
        .post(
            "/v1/chat/completions",
            chat("anthropic/claude-haiku-4-5-20251001", "hi"),
        )
        .await;
    assert_error(&resp, 429, "Rate limit exceeded");
    let retry_after: u64 = resp.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (60..=120).contains(&retry_after),
        "the upstream's hint, got {retry_after}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "did not sit out a two-minute hint"
    );
}

#[tokio::test]
async fn a_model_nobody_offers_is_404_with_the_name_as_sent() {
    let (server, admin) = start(keys()).await;
    let api = server.api(&admin);
    let base = format!("{}/acme/v1", server.fake().url());
    api.post(
        "/v1/providers",
        provider("acme", &base, "acme-key-0123456789ab", &["acme-large"]),
    )
    .await
    .expect(201);

    for name in ["acme/acme-huge", "nobody/model-x", "no-such-model"] {
        let resp = api.post("/v1/chat/completions", chat(name, "hi")).await;
        let error = assert_error(&resp, 404, &format!("Model '{name}' not found"));
        assert_eq!(error["type"], "not_found_error");
    }
    assert_eq!(
        server.fake().request_count("/acme/v1/chat/completions"),
        0,
        "refused before any upstream call"
    );

    // An upstream that says the model does not exist: the same message, with the name as sent.
    server.fake().push(
        "/v1/chat/completions",
        openai::model_not_found("gpt-imaginary"),
    );
    let resp = api
        .post("/v1/chat/completions", chat("openai/gpt-imaginary", "hi"))
        .await;
    assert_error(&resp, 404, "Model 'openai/gpt-imaginary' not found");
}

#[tokio::test]
async fn ollama_down_is_502_naming_the_address_tried() {
    let port = e2e::dead_port();
    let address = format!("http://127.0.0.1:{port}");
    let (server, admin) = start(ServerOptions::new().env("OLLAMA_HOST", &address)).await;
    let api = server.api(&admin);
    let resp = api
        .post("/v1/chat/completions", chat("ollama/llama3.2", "hi"))
        .await;
    let error = assert_error(
        &resp,
        502,
        &format!("Ollama connection failed: could not reach {address}"),
    );
    assert_eq!(error["provider"], "ollama");

    let mut state = String::new();
    for _ in 0..50 {
        state = api.get("/v1/providers/ollama").await.json()["status"]["state"]
            .as_str()
            .unwrap()
            .to_owned();
        if state == "unreachable" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "unreachable");
}

#[tokio::test]
async fn a_provider_without_a_key_names_the_variable_to_set() {
    let (server, admin) = start(ServerOptions::new()).await;
    let api = server.api(&admin);
    for (id, var, model) in [
        (
            "anthropic",
            "ANTHROPIC_API_KEY",
            "anthropic/claude-haiku-4-5-20251001",
        ),
        ("openai", "OPENAI_API_KEY", "openai/gpt-4.1-mini"),
    ] {
        let resp = api.post("/v1/chat/completions", chat(model, "hi")).await;
        let message = format!("No API key set for provider '{id}' - set {var} or register one");
        assert_error(&resp, 401, &message);
        let status = api.get(&format!("/v1/providers/{id}")).await.json()["status"].clone();
        assert_eq!(status["state"], "no_credentials", "{status}");
    }
    assert_eq!(server.fake().request_count("/v1/messages"), 0);
    assert_eq!(server.fake().request_count("/v1/chat/completions"), 0);
}

#[tokio::test]
async fn a_missing_token_on_completions_is_401() {
    let (server, _admin) = start(keys()).await;
    let resp = server
        .anon()
        .post("/v1/chat/completions", chat("openai/gpt-4.1-mini", "hi"))
        .await;
    let error = assert_error(&resp, 401, "Missing or invalid API token");
    assert_eq!(error["type"], "authentication_error");
    assert!(error["provider"].is_null(), "no upstream involved");
    assert_eq!(server.fake().request_count("/v1/chat/completions"), 0);
}

#[tokio::test]
async fn bad_completion_requests_say_what_to_fix() {
    let (server, admin) = start(keys()).await;
    let api = server.api(&admin);

    let resp = api
        .send_raw(
            reqwest::Method::POST,
            "/v1/chat/completions",
            "application/json",
            "{\"model\": ",
        )
        .await;
    assert_error_shape(&resp, 400);

    let resp = api
        .post(
            "/v1/chat/completions",
            json!({"model": "openai/gpt-4.1-mini", "messages": "hi"}),
        )
        .await;
    assert!(matches!(resp.status, 400 | 422), "{resp}");
    assert!(
        assert_error_shape(&resp, resp.status)["message"]
            .as_str()
            .unwrap()
            .contains("messages"),
        "{resp}"
    );

    let resp = api
        .post(
            "/v1/chat/completions",
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert!(matches!(resp.status, 400 | 422), "{resp}");
    assert!(
        resp.text.contains("model"),
        "names the missing `model`: {resp}"
    );
    assert_eq!(server.fake().request_count("/v1/chat/completions"), 0);
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    let fake = FakeUpstream::start().await.unwrap();
    Canned::default().install(&fake);
    let (server, admin) = start(ServerOptions::new().upstream(&fake)).await;
    let addr = server.url().trim_start_matches("http://").to_owned();
    let declared: usize = 256 * 1024 * 1024;
    let head = format!(
        "POST /v1/providers HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {admin}\r\n\
         content-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
    );
    // Write the head and as much body as the server takes on one thread; read the answer on
    // another. A server may answer from the declared length alone or after reading its limit.
    let mut writer = TcpStream::connect(&addr).unwrap();
    let mut reader = writer.try_clone().unwrap();
    reader
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let pump = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 * 1024];
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
        let mut sent = 0;
        while sent < declared && writer.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
    });
    let answer = tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    })
    .await
    .unwrap();
    drop(pump);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "expected 413, got: {answer:?}"
    );
    // Nothing was half-registered, and the server still serves.
    let list = server
        .api(&admin)
        .get("/v1/providers")
        .await
        .expect(200)
        .json();
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
}
