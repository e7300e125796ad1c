//! The official Anthropic Python SDK through Moxxy's `/v1/messages`: the real server on a
//! scripted fake (Anthropic and OpenAI), a `chat` token, and pytest on
//! `tests/sdk/test_anthropic_sdk.py`. `scripts/test` prepares `.venv` from
//! `tests/sdk/requirements.txt`; without it this test fails.
//!
//! Scripted (kept in step with the Python file): a plain request answers "Hello from Moxxy"
//! (streamed in three pieces), then a request with tools calls `get_weather` for Paris.

#![allow(clippy::unwrap_used)]

mod e2e;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::{ServerOptions, TestServer};
use moxxy_fake_upstream::anthropic;
use moxxy_fake_upstream::openai::{self, ToolCall};
use moxxy_fake_upstream::{Canned, FakeUpstream, Reply};
use serde_json::json;

const PYTEST_TIMEOUT: Duration = Duration::from_secs(180);
const PIECES: [&str; 3] = ["Hello", " from", " Moxxy"];

/// The replies each upstream gives, in the order the Python tests ask.
fn scripted(fake: &FakeUpstream) {
    let text = Reply::if_stream(
        Reply::sse(anthropic::stream_text(anthropic::MODEL, &PIECES)),
        anthropic::reply(anthropic::message(
            "Hello from Moxxy",
            anthropic::Usage::new(9, 3),
        )),
    );
    let tool = anthropic::reply(anthropic::tool_use_message(
        "",
        "toolu_01T1",
        "get_weather",
        json!({"city": "Paris"}),
        anthropic::Usage::new(40, 12),
    ));
    let usage = openai::Usage::new(9, 3);
    let chat = Reply::if_stream(
        Reply::sse(openai::stream_text(openai::MODEL, &PIECES, Some(usage))),
        openai::reply(openai::completion("Hello from Moxxy", usage)),
    );
    let call = ToolCall::new("call_7Yq", "get_weather", r#"{"city":"Paris"}"#);
    let openai_tool = openai::reply(openai::tool_calls_completion(
        &[call],
        openai::Usage::new(40, 12),
    ));
    // pytest runs the file in order: per upstream a plain request, a stream, then the tool call.
    fake.push("/v1/messages", text.clone());
    fake.push("/v1/messages", text);
    fake.push("/v1/messages", tool);
    fake.push("/v1/chat/completions", chat.clone());
    fake.push("/v1/chat/completions", chat);
    fake.push("/v1/chat/completions", openai_tool);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_anthropic_python_sdk_works_through_moxxy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test, which creates the venv with the pinned SDKs \
         (tests/sdk/requirements.txt) and then runs cargo test",
        python.display()
    );
    let fake = FakeUpstream::start().await.unwrap();
    Canned::default().install(&fake);
    scripted(&fake);
    let options = ServerOptions::new()
        .upstream(&fake)
        .env("OPENAI_API_KEY", "sk-test-sdk-0123456789abcdef")
        .env("ANTHROPIC_API_KEY", "sk-ant-test-sdk-0123456789abcdef");
    let server = TestServer::start(options).await;
    let admin = server.bootstrap_admin_token().await;
    let (_, token) = server
        .api(&admin)
        .create_token("sdk", &["chat"], None)
        .await;

    let mut pytest = Command::new(&python);
    pytest
        .args([
            "-m",
            "pytest",
            "tests/sdk/test_anthropic_sdk.py",
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
    let _ = std::io::stderr().write_all(
        format!(
            "--- pytest test_anthropic_sdk.py ---\n{}{}",
            out.stdout, out.stderr
        )
        .as_bytes(),
    );
    assert!(
        out.status.success() && !out.stdout.contains("skipped"),
        "the Anthropic SDK tests failed:\n{out}\n--- server log ---\n{}",
        server.logs()
    );
}
