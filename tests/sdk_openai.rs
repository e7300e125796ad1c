//! The official OpenAI Python SDK through Moxxy: starts the real server on a scripted fake
//! upstream, creates a `chat` token, and runs `tests/sdk` (pytest) with `MOXXY_URL` and
//! `MOXXY_TOKEN` set. The SDK version is pinned in `tests/sdk/requirements.txt`;
//! `scripts/test` (the README's test command) creates `.venv` with it.
//!
//! What the Python tests expect the server to offer (kept in step with test_openai_sdk.py):
//! - `openai/gpt-4.1-mini`: answers "Hello from Moxxy" (streamed as "Hello", " from", " Moxxy");
//! - `tools/tool-model`: calls `get_weather` for Paris and Tokyo in parallel;
//! - `limited/busy-model`: always rate-limited upstream (a two-minute Retry-After).

#![allow(clippy::unwrap_used)]

mod e2e;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::{provider, ServerOptions, TestServer};
use moxxy_fake_upstream::openai::{self, ToolCall, Usage};
use moxxy_fake_upstream::{Canned, FakeUpstream, Reply};

/// pytest's whole run, SDK import included.
const PYTEST_TIMEOUT: Duration = Duration::from_secs(180);

async fn scripted_fake() -> FakeUpstream {
    let fake = FakeUpstream::start().await.unwrap();
    Canned::default().install(&fake);
    let usage = Usage::new(9, 3);
    let text = Reply::if_stream(
        Reply::sse(openai::stream_text(
            openai::MODEL,
            &["Hello", " from", " Moxxy"],
            Some(usage),
        )),
        openai::reply(openai::completion("Hello from Moxxy", usage)),
    );
    fake.set_default("/v1/chat/completions", text);
    let calls = [
        ToolCall::new("call_7Yq", "get_weather", r#"{"city":"Paris"}"#),
        ToolCall::new("call_8Zr", "get_weather", r#"{"city":"Tokyo"}"#),
    ];
    let tools = Reply::if_stream(
        Reply::sse(openai::stream_parallel_tool_calls(openai::MODEL)),
        openai::reply(openai::tool_calls_completion(&calls, Usage::new(82, 34))),
    );
    fake.set_default("/tools/v1/chat/completions", tools);
    fake.set_default(
        "/limited/v1/chat/completions",
        openai::rate_limited(Duration::from_secs(120)),
    );
    fake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_python_sdk_works_through_moxxy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test, which creates the venv with the pinned OpenAI SDK \
         (tests/sdk/requirements.txt) and then runs cargo test",
        python.display()
    );

    let fake = scripted_fake().await;
    let options = ServerOptions::new()
        .upstream(&fake)
        .env("OPENAI_API_KEY", "sk-test-sdk-0123456789abcdef");
    let server = TestServer::start(options).await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    for (name, model) in [("tools", "tool-model"), ("limited", "busy-model")] {
        let mut registration = provider(
            name,
            &format!("{}/{name}/v1", fake.url()),
            "test-key-0123456789abcd",
            &[model],
        );
        registration["max_retries"] = 0.into();
        api.post("/v1/providers", registration).await.expect(201);
    }
    let (_, token) = api.create_token("sdk", &["chat"], None).await;

    let mut pytest = Command::new(&python);
    pytest
        .args([
            "-m",
            "pytest",
            "tests/sdk/test_openai_sdk.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .current_dir(root)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", server.data_dir().with_file_name("home"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("MOXXY_URL", server.url())
        .env("MOXXY_TOKEN", &token);
    let out = e2e::run(pytest, PYTEST_TIMEOUT).await;
    // Straight to the process's stderr, past the test harness's capture: CI shows pytest's
    // summary beside cargo's.
    let _ = std::io::stderr().write_all(
        format!(
            "--- pytest test_openai_sdk.py ---\n{}{}",
            out.stdout, out.stderr
        )
        .as_bytes(),
    );
    assert!(
        out.status.success(),
        "the OpenAI SDK tests failed:\n{out}\n--- server log ---\n{}",
        server.logs()
    );
}
