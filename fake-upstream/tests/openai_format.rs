//! The OpenAI builders write the exact wire format of PROTOCOLS.md §2.3–2.5 and §4.4.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use moxxy_fake_upstream::openai::{self, StreamBuilder, ToolCall, Usage};
use moxxy_fake_upstream::FakeUpstream;
use serde_json::{json, Value};

#[test]
fn a_text_stream_has_role_first_a_finish_chunk_usage_and_done() {
    let usage = Usage::new(82, 2).with_cached(64);
    let chunks = openai::stream_text("gpt-x", &["Hel", "lo"], Some(usage));
    let events = common::sse_events(&chunks);
    assert!(
        events.iter().all(|(name, _)| name == "message"),
        "data-only events"
    );
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let json = common::sse_json(&chunks);
    assert_eq!(json.len(), 5);
    assert!(json
        .iter()
        .all(|c| c["id"] == openai::COMPLETION_ID && c["model"] == "gpt-x"));
    assert!(json.iter().all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(json[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(json[1]["choices"][0]["delta"], json!({"content": "Hel"}));
    assert_eq!(json[1]["choices"][0]["finish_reason"], Value::Null);
    assert_eq!(json[3]["choices"][0]["delta"], json!({}));
    assert_eq!(json[3]["choices"][0]["finish_reason"], "stop");
    // Every chunk says usage: null except the last, which has no choices.
    assert!(json[..4]
        .iter()
        .all(|c| c["usage"] == Value::Null && c.get("usage").is_some()));
    assert_eq!(json[4]["choices"], json!([]));
    assert_eq!(
        json[4]["usage"]["prompt_tokens_details"]["cached_tokens"],
        64
    );
    assert_eq!(json[4]["usage"]["total_tokens"], 84);
}

#[test]
fn without_include_usage_chunks_have_no_usage_field() {
    let json = common::sse_json(&openai::stream_text("gpt-x", &["a"], None));
    assert!(json.iter().all(|c| c.get("usage").is_none()));
}

#[test]
fn parallel_tool_call_fragments_interleave_and_join_by_index() {
    let json = common::sse_json(&openai::stream_parallel_tool_calls("gpt-x"));
    let fragments: Vec<&Value> = json
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    // Heads first: index, id, type and name, with empty arguments.
    assert_eq!(fragments[0]["id"], "call_7Yq");
    assert_eq!(fragments[1]["index"], 1);
    assert_eq!(fragments[1]["type"], "function");
    assert_eq!(fragments[1]["function"]["arguments"], "");
    let order: Vec<u64> = fragments[2..]
        .iter()
        .map(|f| f["index"].as_u64().unwrap())
        .collect();
    assert_eq!(&order[..4], [0, 1, 0, 1], "argument fragments interleave");
    let mut joined: BTreeMap<u64, String> = BTreeMap::new();
    for fragment in &fragments {
        let index = fragment["index"].as_u64().unwrap();
        let part = fragment["function"]["arguments"].as_str().unwrap();
        joined.entry(index).or_default().push_str(part);
    }
    assert_eq!(joined[&0], r#"{"city":"Paris"}"#);
    assert_eq!(joined[&1], r#"{"city":"Tokyo"}"#);
    let finish = json
        .iter()
        .find(|c| c["choices"][0]["finish_reason"] == "tool_calls");
    assert!(finish.is_some());
}

#[test]
fn deepseek_reasoning_content_comes_before_the_content() {
    let json = common::sse_json(&openai::stream_reasoning_content(
        "deepseek-v4-pro",
        &["think"],
        &["answer"],
    ));
    let fields: Vec<&str> = json
        .iter()
        .filter_map(|c| c["choices"][0]["delta"].as_object())
        .flat_map(|delta| delta.keys().map(String::as_str))
        .filter(|key| *key == "reasoning_content" || *key == "content")
        .collect();
    // The role chunk's empty content first, then reasoning, then the answer.
    assert_eq!(fields, ["content", "reasoning_content", "content"]);
    assert_eq!(
        json.last().unwrap()["usage"]["completion_tokens_details"]["reasoning_tokens"],
        1
    );
}

#[test]
fn a_failing_stream_ends_with_an_error_object_and_no_done() {
    let chunks = StreamBuilder::new("gpt-x")
        .content(&["a"])
        .fail("server_error", None, "boom");
    let events = common::sse_events(&chunks);
    assert!(!events.iter().any(|(_, data)| data == "[DONE]"));
    let last: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert_eq!(
        last,
        json!({"error": {"message": "boom", "type": "server_error", "param": null, "code": null}})
    );
}

#[test]
fn completions_carry_content_or_tool_calls_and_usage() {
    let plain = openai::completion("Hi", Usage::new(5, 1));
    assert_eq!(plain["object"], "chat.completion");
    assert_eq!(plain["choices"][0]["message"]["content"], "Hi");
    assert_eq!(plain["choices"][0]["finish_reason"], "stop");
    assert_eq!(plain["usage"]["total_tokens"], 6);

    let calls = [ToolCall::new("call_1", "f", "{\"a\":1}")];
    let tools = openai::tool_calls_completion(&calls, Usage::new(5, 1));
    let message = &tools["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null);
    assert_eq!(
        message["tool_calls"][0]["function"]["arguments"],
        "{\"a\":1}"
    );
    assert_eq!(tools["choices"][0]["finish_reason"], "tool_calls");

    let reasoning = openai::reasoning_completion("why", "Hi", Usage::new(5, 2));
    assert_eq!(
        reasoning["choices"][0]["message"]["reasoning_content"],
        "why"
    );
}

#[tokio::test]
async fn a_429_sends_retry_after_and_retry_after_ms() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        openai::rate_limited(Duration::from_millis(1500)),
    );
    let response = common::client()
        .post(format!("{}/v1/chat/completions", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(response.headers()["retry-after-ms"], "1500");
    let body = common::json_body(response).await;
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert!(body["error"]["message"].as_str().unwrap().contains("1.5s"));
}

#[tokio::test]
async fn error_replies_have_the_status_and_code_of_the_api() {
    let fake = FakeUpstream::start().await.unwrap();
    let path = "/v1/chat/completions";
    fake.push(path, openai::invalid_api_key());
    fake.push(path, openai::model_not_found("gpt-nope"));
    fake.push(path, openai::insufficient_quota());
    fake.push(path, openai::server_error());
    let client = common::client();
    for (status, code) in [
        (401, json!("invalid_api_key")),
        (404, json!("model_not_found")),
        (429, json!("insufficient_quota")),
        (500, Value::Null),
    ] {
        let response = client
            .post(format!("{}{path}", fake.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(common::json_body(response).await["error"]["code"], code);
    }
}
