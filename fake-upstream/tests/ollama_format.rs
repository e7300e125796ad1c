//! The Ollama builders write the exact wire format of PROTOCOLS.md §3.2–3.6.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use moxxy_fake_upstream::ollama::{self, StreamBuilder, ToolCall, Usage};
use moxxy_fake_upstream::FakeUpstream;
use serde_json::{json, Value};

fn lines(chunks: &[Bytes]) -> Vec<Value> {
    chunks
        .iter()
        .map(|chunk| {
            let text = std::str::from_utf8(chunk).unwrap();
            assert!(
                text.ends_with('\n') && text.matches('\n').count() == 1,
                "{text:?}"
            );
            serde_json::from_str(text).unwrap()
        })
        .collect()
}

#[test]
fn a_stream_is_one_json_line_per_chunk_ending_with_done_and_metrics() {
    let lines = lines(&ollama::stream_text("llama3.2", &["The", " sky"]));
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0]["message"],
        json!({"role": "assistant", "content": "The"})
    );
    assert_eq!(lines[0]["done"], false);
    let last = &lines[2];
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["message"]["content"], "");
    assert_eq!(last["prompt_eval_count"], 26);
    assert_eq!(last["eval_count"], 2);
    assert!(
        last["total_duration"].as_u64().unwrap() > 1_000_000,
        "nanoseconds"
    );
}

#[test]
fn thinking_and_tool_calls_stream_whole_with_object_arguments() {
    let call = ToolCall::new("call_k3j9", "get_weather", json!({"city": "Tokyo"}));
    let old = ToolCall::without_id("get_time", json!({}));
    let chunks = StreamBuilder::new("qwen3")
        .thinking(&["hmm"])
        .tool_calls(&[call, old])
        .done("stop", Usage::new(10, 4));
    let lines = lines(&chunks);
    assert_eq!(lines[0]["message"]["thinking"], "hmm");
    let calls = &lines[1]["message"]["tool_calls"];
    assert_eq!(
        calls[0],
        json!({"id": "call_k3j9", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Tokyo"}}})
    );
    assert_eq!(
        calls[1],
        json!({"function": {"name": "get_time", "arguments": {}}})
    );
    assert_eq!(lines[2]["done_reason"], "stop");
}

#[test]
fn a_failing_stream_ends_with_an_error_line() {
    let chunks = StreamBuilder::new("m")
        .content(&["a"])
        .fail("an error was encountered while running the model");
    let lines = lines(&chunks);
    assert_eq!(
        lines.last().unwrap(),
        &json!({"error": "an error was encountered while running the model"})
    );
    assert!(!lines.iter().any(|line| line["done"] == true));
}

#[test]
fn non_streamed_answers_are_final_objects() {
    let chat = ollama::chat("Hi", Usage::new(3, 1));
    assert_eq!(chat["done"], true);
    assert_eq!(chat["message"]["content"], "Hi");
    let thinking = ollama::thinking_chat("hmm", "Hi", Usage::new(3, 1));
    assert_eq!(thinking["message"]["thinking"], "hmm");
    let tools = ollama::tool_calls_chat(
        &[ToolCall::new("c", "f", json!({"a": 1}))],
        Usage::new(3, 1),
    );
    assert_eq!(
        tools["message"]["tool_calls"][0]["function"]["arguments"],
        json!({"a": 1})
    );
}

#[tokio::test]
async fn discovery_and_errors_answer_as_ollama_does() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/api/tags",
        moxxy_fake_upstream::Reply::json(200, ollama::tags(&["llama3.2:latest"])),
    );
    fake.push(
        "/api/version",
        moxxy_fake_upstream::Reply::json(200, ollama::version("0.12.3")),
    );
    fake.push("/api/chat", ollama::model_not_found("nope"));
    let client = common::client();
    let get = |path: &str| client.get(format!("{}{path}", fake.url())).send();

    let tags = common::json_body(get("/api/tags").await.unwrap()).await;
    assert_eq!(tags["models"][0]["name"], "llama3.2:latest");
    assert_eq!(tags["models"][0]["details"]["family"], "llama");
    let version = common::json_body(get("/api/version").await.unwrap()).await;
    assert_eq!(version, json!({"version": "0.12.3"}));
    let missing = get("/api/chat").await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(
        common::json_body(missing).await,
        json!({"error": "model 'nope' not found"})
    );
}
