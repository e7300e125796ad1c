//! Ollama auto-discovery through the real binary: the status and pulled models are asked of
//! `OLLAMA_HOST` at start and then every `providers.ollama.discovery_interval_s` seconds, so a
//! model pulled while Moxxy runs is listed and routable without a restart, and a stopped Ollama
//! answers `Ollama connection failed` at once.

#![allow(clippy::unwrap_used)]

mod e2e;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use e2e::{assert_error, chat, Api, ServerOptions, TestServer};
use moxxy_fake_upstream::{ollama, FakeUpstream, Options, Reply};
use serde_json::Value;

/// Probe every second, so the tests see a change within a few seconds.
const FAST_DISCOVERY: &str = "[providers.ollama]\ndiscovery_interval_s = 1\n";
/// How long a change may take to show (a few discovery intervals).
const SETTLE: Duration = Duration::from_secs(8);

/// A fake Ollama at `addr` with `models` pulled and a canned chat answer.
async fn fake_ollama(addr: SocketAddr, models: &[&str]) -> FakeUpstream {
    let fake = FakeUpstream::start_with(Options {
        addr,
        ..Options::default()
    })
    .await
    .unwrap();
    fake.set_default(
        "/api/version",
        Reply::json(200, ollama::version(ollama::VERSION)),
    );
    fake.set_default("/api/tags", Reply::json(200, ollama::tags(models)));
    fake.set_default(
        "/api/chat",
        Reply::json(
            200,
            ollama::chat("hello from ollama", ollama::Usage::new(3, 4)),
        ),
    );
    fake
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn model_ids(api: &Api, path: &str) -> Vec<String> {
    let body = api.get(path).await.expect(200).json();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `GET /v1/providers/ollama` until `done` holds or [`SETTLE`] passes; returns the last view.
async fn wait_for_provider(api: &Api, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let view = api.get("/v1/providers/ollama").await.expect(200).json();
        if done(&view) || Instant::now() > deadline {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn pulled_models_are_listed_at_start_and_new_ones_appear_without_a_restart() {
    let fake = fake_ollama(loopback(), &["llama3.2:latest", "qwen3:latest"]).await;
    let server =
        TestServer::start(ServerOptions::new().upstream(&fake).config(FAST_DISCOVERY)).await;
    let api = server.api(&server.bootstrap_admin_token().await);

    // Known at start: the ready line comes after the first probe.
    let view = api.get("/v1/providers/ollama").await.expect(200).json();
    assert_eq!(view["status"]["state"], "ready", "{view}");
    assert_eq!(view["status"]["detail"], Value::Null);
    assert_eq!(
        view["auth"]["type"], "none",
        "Ollama never asks for a key: {view}"
    );
    assert_eq!(
        view["models"],
        serde_json::json!(["llama3.2:latest", "qwen3:latest"])
    );
    let listed = api
        .get("/v1/providers/ollama/models")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["data"][0]["id"], "llama3.2:latest");
    assert_eq!(listed["data"][0]["source"], "upstream");
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);

    // `ollama pull newmodel` while Moxxy runs.
    fake.set_default(
        "/api/tags",
        Reply::json(
            200,
            ollama::tags(&["llama3.2:latest", "qwen3:latest", "newmodel:latest"]),
        ),
    );
    let deadline = Instant::now() + SETTLE;
    let mut ids = Vec::new();
    while Instant::now() < deadline {
        ids = model_ids(&api, "/v1/providers/ollama/models").await;
        if ids.iter().any(|id| id == "newmodel:latest") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ids.iter().any(|id| id == "newmodel:latest"), "{ids:?}");
    let all = model_ids(&api, "/v1/models").await;
    assert!(all.iter().any(|id| id.contains("newmodel")), "{all:?}");

    // It routes, by PROVIDER/MODEL without the tag and by its bare id.
    let resp = api
        .post("/v1/chat/completions", chat("ollama/newmodel", "hi"))
        .await;
    let body = resp.expect(200).json();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "hello from ollama"
    );
    let sent: Vec<Value> = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/api/chat")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(sent.last().unwrap()["model"], "newmodel:latest");

    // A model removed upstream leaves the list too.
    fake.set_default(
        "/api/tags",
        Reply::json(200, ollama::tags(&["qwen3:latest"])),
    );
    let view =
        wait_for_provider(&api, |v| v["models"] == serde_json::json!(["qwen3:latest"])).await;
    assert_eq!(
        view["models"],
        serde_json::json!(["qwen3:latest"]),
        "{view}"
    );
}

#[tokio::test]
async fn ollama_down_is_unreachable_answers_promptly_and_recovers_when_it_starts() {
    let others = FakeUpstream::start().await.unwrap();
    let port = e2e::dead_port();
    let address = format!("http://127.0.0.1:{port}");
    let server = TestServer::start(
        ServerOptions::new()
            .upstream(&others)
            .env("OLLAMA_HOST", &format!("127.0.0.1:{port}"))
            .config(FAST_DISCOVERY),
    )
    .await;
    let api = server.api(&server.bootstrap_admin_token().await);
    let message = format!("Ollama connection failed: could not reach {address}");

    let view = api.get("/v1/providers/ollama").await.expect(200).json();
    assert_eq!(view["status"]["state"], "unreachable", "{view}");
    assert_eq!(view["status"]["detail"], message.as_str(), "{view}");
    assert_eq!(view["base_url"], address.as_str());

    let started = Instant::now();
    let resp = api
        .post("/v1/chat/completions", chat("ollama/llama3.2", "hi"))
        .await;
    let took = started.elapsed();
    let error = assert_error(&resp, 502, &message);
    assert_eq!(error["provider"], "ollama");
    assert!(took < Duration::from_secs(3), "took {took:?}");

    // Ollama starts on that port: the next probe finds it, with its models.
    let port_addr = SocketAddr::from(([127, 0, 0, 1], port));
    let _ollama = fake_ollama(port_addr, &["llama3.2:latest"]).await;
    let view = wait_for_provider(&api, |v| v["status"]["state"] == "ready").await;
    assert_eq!(view["status"]["state"], "ready", "{view}");
    assert_eq!(view["status"]["detail"], Value::Null);
    let view = wait_for_provider(&api, |v| {
        v["models"] == serde_json::json!(["llama3.2:latest"])
    })
    .await;
    assert_eq!(
        view["models"],
        serde_json::json!(["llama3.2:latest"]),
        "{view}"
    );
}

#[tokio::test]
async fn with_an_interval_of_zero_ollama_is_asked_only_at_start() {
    let fake = fake_ollama(loopback(), &["llama3.2:latest"]).await;
    let server = TestServer::start(
        ServerOptions::new()
            .upstream(&fake)
            .config("[providers.ollama]\ndiscovery_interval_s = 0\n"),
    )
    .await;
    let api = server.api(&server.bootstrap_admin_token().await);
    let ids = model_ids(&api, "/v1/providers/ollama/models").await;
    assert_eq!(ids, ["llama3.2:latest"]);
    let asked = fake.request_count("/api/version");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(fake.request_count("/api/version"), asked);
}
