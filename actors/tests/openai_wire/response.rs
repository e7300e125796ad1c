//! Non-streamed answers, both ways.

use moxxy_actors::provider::openai::{decode_response, encode_response, Dialect};
use moxxy_actors::{ChatResponse, ContentPart, ErrorKind, StopReason, Usage};
use serde_json::{json, Value};

/// The non-streaming example of PROTOCOLS.md §2.3.
const SPEC_RESPONSE: &str = r#"{
  "id": "chatcmpl-B9MHDb", "object": "chat.completion", "created": 1767225600,
  "model": "gpt-4.1-2025-04-14", "system_fingerprint": "fp_8b2f4c1a", "service_tier": "default",
  "choices": [{"index": 0,
    "message": {"role": "assistant", "content": null, "refusal": null, "annotations": [],
                "tool_calls": [{"id": "call_7Yq", "type": "function",
                                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
    "logprobs": null, "finish_reason": "tool_calls"}],
  "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 5, "audio_tokens": 0}}
}"#;

#[test]
fn the_spec_response_decodes() {
    let resp = decode_response(SPEC_RESPONSE.as_bytes(), Dialect::OpenAi).unwrap();
    assert_eq!(resp.id, "chatcmpl-B9MHDb");
    assert_eq!(resp.model, "gpt-4.1-2025-04-14");
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    let calls: Vec<_> = resp.tool_calls().collect();
    assert_eq!(
        calls,
        vec![("call_7Yq", "get_weather", &json!({"city": "Paris"}))]
    );
    assert_eq!(
        resp.usage,
        Some(Usage {
            input_tokens: 82,
            output_tokens: 17,
            cache_read_tokens: 64,
            cache_write_tokens: 0,
            reasoning_tokens: 5
        })
    );
}

#[test]
fn deepseek_blank_lines_reasoning_and_cache_hits() {
    let body = "\n\n  \n{\"id\":\"d1\",\"model\":\"deepseek-v4-pro\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"42\",\"reasoning_content\":\"Think.\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":4,\"prompt_cache_hit_tokens\":8,\"prompt_cache_miss_tokens\":2}}";
    let resp = decode_response(body.as_bytes(), Dialect::DeepSeek).unwrap();
    assert_eq!(
        resp.content,
        vec![
            ContentPart::Thinking {
                text: "Think.".into(),
                signature: None
            },
            ContentPart::text("42")
        ]
    );
    assert_eq!(resp.stop_reason, StopReason::EndTurn);
    assert_eq!(resp.usage.unwrap().cache_read_tokens, 8);
}

#[test]
fn odd_answers_are_handled() {
    // No usage is None; an empty tool id is generated; bad arguments are kept as text;
    // `stop` with tool calls is tool use.
    let body = r#"{"id":"x","model":"gemini-3","choices":[{"index":0,"message":{"role":"assistant","content":null,
        "tool_calls":[{"id":"","type":"function","function":{"name":"f","arguments":"{not json"}}]},"finish_reason":"stop"}]}"#;
    let resp = decode_response(body.as_bytes(), Dialect::Gemini).unwrap();
    assert_eq!(resp.usage, None);
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    let (id, _, args) = resp.tool_calls().next().unwrap();
    assert!(id.starts_with("call_") && id.len() > 5);
    assert_eq!(*args, json!("{not json"));

    let capacity = r#"{"id":"x","choices":[{"index":0,"message":{"content":"cut"},"finish_reason":"insufficient_system_resource"}]}"#;
    let err = decode_response(capacity.as_bytes(), Dialect::DeepSeek).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Overloaded);
    assert!(err.is_retryable());

    let error_body = r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
    let err = decode_response(error_body.as_bytes(), Dialect::OpenAi).unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);

    let err = decode_response(b"<html>oops</html>", Dialect::OpenAi).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
}

#[test]
fn a_refusal_round_trips_as_refusal() {
    let body = r#"{"id":"chatcmpl-r","model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}"#;
    let resp = decode_response(body.as_bytes(), Dialect::OpenAi).unwrap();
    assert_eq!(
        resp.text(),
        "I can't help with that.",
        "other protocols see it as text"
    );
    let encoded = encode_response(&resp);
    assert_eq!(
        encoded["choices"][0]["message"]["refusal"],
        "I can't help with that."
    );
    assert_eq!(encoded["choices"][0]["message"]["content"], Value::Null);
}

#[test]
fn encode_response_has_the_chat_completion_shape() {
    let resp = ChatResponse {
        id: "msg_01".into(),
        model: "claude-sonnet-4-5".into(),
        content: vec![
            ContentPart::Thinking {
                text: "hmm".into(),
                signature: Some("sig".into()),
            },
            ContentPart::text("Checking."),
            ContentPart::ToolCall {
                id: "toolu_1".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
                extra: Default::default(),
            },
        ],
        stop_reason: StopReason::ToolUse,
        stop_sequence: None,
        usage: Some(Usage {
            input_tokens: 100,
            output_tokens: 20,
            cache_read_tokens: 60,
            cache_write_tokens: 0,
            reasoning_tokens: 7,
        }),
        request_id: None,
    };
    let body = encode_response(&resp);
    assert_eq!(body["id"], "chatcmpl-msg_01");
    assert_eq!(body["object"], "chat.completion");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "Checking.", "reasoning_content": "hmm",
               "tool_calls": [{"id": "toolu_1", "type": "function",
                               "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}],
               "refusal": null})
    );
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
               "prompt_tokens_details": {"cached_tokens": 60},
               "completion_tokens_details": {"reasoning_tokens": 7}})
    );
    let no_usage = encode_response(&ChatResponse {
        usage: None,
        ..resp
    });
    assert!(no_usage.get("usage").is_none());
    // And our own decoder reads it back.
    let again = decode_response(no_usage.to_string().as_bytes(), Dialect::OpenAi).unwrap();
    assert_eq!(again.text(), "Checking.");
    assert_eq!(again.stop_reason, StopReason::ToolUse);
}
