//! The Anthropic builders write the exact wire format of PROTOCOLS.md §1.4–1.6.
#![allow(clippy::unwrap_used)]

mod common;

use moxxy_fake_upstream::anthropic::{self, StreamBuilder, Usage};
use moxxy_fake_upstream::FakeUpstream;
use serde_json::{json, Value};

#[test]
fn every_event_is_named_after_its_type_and_the_order_is_the_protocols() {
    let chunks = anthropic::stream_text("claude-x", &["Hel", "lo"]);
    let events = common::sse_events(&chunks);
    assert_eq!(events.len(), chunks.len(), "one event per chunk");
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for (name, data) in &events {
        let data: Value = serde_json::from_str(data).unwrap();
        assert_eq!(data["type"], name.as_str());
    }
    let json = common::sse_json(&chunks);
    assert_eq!(json[0]["message"]["model"], "claude-x");
    assert_eq!(json[0]["message"]["content"], json!([]));
    assert_eq!(json[0]["message"]["stop_reason"], Value::Null);
    assert_eq!(
        json[2]["content_block"],
        json!({"type": "text", "text": ""})
    );
    assert_eq!(
        json[3]["delta"],
        json!({"type": "text_delta", "text": "Hel"})
    );
    assert_eq!(json[6]["delta"]["stop_reason"], "end_turn");
    assert_eq!(json[6]["usage"], json!({"output_tokens": 2}));
}

#[test]
fn thinking_text_and_a_split_tool_call_stream_as_documented() {
    let json = common::sse_json(&anthropic::stream_thinking_text_tool("claude-x"));
    let deltas = |index: u64| -> Vec<Value> {
        json.iter()
            .filter(|e| e["type"] == "content_block_delta" && e["index"] == index)
            .map(|e| e["delta"].clone())
            .collect()
    };
    // Block 0: thinking deltas, then the signature just before content_block_stop.
    let thinking = deltas(0);
    assert_eq!(thinking.last().unwrap()["type"], "signature_delta");
    assert_eq!(thinking[0]["type"], "thinking_delta");
    let stop_0 = json
        .iter()
        .position(|e| e["type"] == "content_block_stop" && e["index"] == 0);
    let sig = json
        .iter()
        .position(|e| e["delta"]["type"] == "signature_delta");
    assert_eq!(sig.unwrap() + 1, stop_0.unwrap());
    // Block 1: text.
    assert_eq!(deltas(1)[0]["type"], "text_delta");
    // Block 2: tool_use with empty input, fragments that only parse once joined.
    let start = json
        .iter()
        .find(|e| e["type"] == "content_block_start" && e["index"] == 2);
    assert_eq!(start.unwrap()["content_block"]["input"], json!({}));
    let fragments: Vec<String> = deltas(2)
        .iter()
        .map(|d| d["partial_json"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fragments[0], "");
    assert!(serde_json::from_str::<Value>(&fragments[1]).is_err());
    let input: Value = serde_json::from_str(&fragments.concat()).unwrap();
    assert_eq!(input, json!({"city": "Paris"}));
    let delta = json.iter().find(|e| e["type"] == "message_delta").unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
}

#[test]
fn redacted_thinking_arrives_whole_and_usage_can_be_cumulative() {
    let usage = Usage::new(10, 7).with_cache(100, 5);
    let chunks = StreamBuilder::new("m", usage)
        .redacted_thinking("EmwKAhgB")
        .full_usage_in_delta()
        .finish("end_turn");
    let json = common::sse_json(&chunks);
    let start = &json[0]["message"]["usage"];
    assert_eq!(start["cache_read_input_tokens"], 100);
    assert_eq!(start["cache_creation_input_tokens"], 5);
    assert_eq!(start["input_tokens"], 10);
    let block = json
        .iter()
        .find(|e| e["type"] == "content_block_start")
        .unwrap();
    assert_eq!(
        block["content_block"],
        json!({"type": "redacted_thinking", "data": "EmwKAhgB"})
    );
    assert!(!json.iter().any(|e| e["type"] == "content_block_delta"));
    let delta = json.iter().find(|e| e["type"] == "message_delta").unwrap();
    assert_eq!(delta["usage"], usage.to_json());
}

#[test]
fn a_failing_stream_ends_with_an_error_event_and_no_message_stop() {
    let chunks = StreamBuilder::default()
        .text(&["a"])
        .fail("overloaded_error", "Overloaded");
    let events = common::sse_events(&chunks);
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error");
    let data: Value = serde_json::from_str(data).unwrap();
    assert_eq!(
        data,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    assert!(!events.iter().any(|(name, _)| name == "message_stop"));
}

#[test]
fn messages_carry_their_blocks_stop_reason_and_usage() {
    let plain = anthropic::message("Hi", Usage::new(3, 1));
    assert_eq!(plain["type"], "message");
    assert_eq!(plain["content"], json!([{"type": "text", "text": "Hi"}]));
    assert_eq!(plain["stop_reason"], "end_turn");
    assert_eq!(plain["usage"]["output_tokens"], 1);

    let tool = anthropic::tool_use_message("", "toolu_1", "f", json!({"a": 1}), Usage::new(3, 1));
    assert_eq!(tool["stop_reason"], "tool_use");
    assert_eq!(
        tool["content"],
        json!([{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}])
    );

    let thinking = anthropic::thinking_message("hmm", "sig", "opaque", "Hi", Usage::new(3, 1));
    let types: Vec<&str> = thinking["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["thinking", "redacted_thinking", "text"]);
    assert_eq!(thinking["content"][0]["signature"], "sig");
}

#[tokio::test]
async fn error_replies_have_the_status_headers_and_body_of_the_api() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/v1/messages", anthropic::rate_limited(7));
    fake.push("/v1/messages", anthropic::overloaded());
    fake.push("/v1/messages", anthropic::authentication_error());
    fake.push("/v1/messages", anthropic::not_found("claude-nope"));
    let client = common::client();
    let url = format!("{}/v1/messages", fake.url());

    let limited = client.post(&url).send().await.unwrap();
    assert_eq!(limited.status().as_u16(), 429);
    assert_eq!(limited.headers()["retry-after"], "7");
    assert_eq!(limited.headers()["request-id"], anthropic::REQUEST_ID);
    let body = common::json_body(limited).await;
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["request_id"], anthropic::REQUEST_ID);

    for (status, error_type) in [
        (529, "overloaded_error"),
        (401, "authentication_error"),
        (404, "not_found_error"),
    ] {
        let response = client.post(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(
            common::json_body(response).await["error"]["type"],
            error_type
        );
    }
}
