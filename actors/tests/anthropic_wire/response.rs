//! Non-streamed answers: `decode_response` (upstream) and `encode_response` (client).

use moxxy_actors::provider::anthropic::{decode_response, encode_response};
use moxxy_actors::{ChatResponse, ContentPart, ErrorKind, JsonObject, StopReason, Usage};
use serde_json::json;

/// The §1.4 example, after a few blank lines (DeepSeek-style keep-alives) and with fields and a
/// block type this version does not know.
const EXAMPLE: &str = r#"

  {
  "id": "msg_01XFDUDY",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "container": null,
  "content": [
    {"type": "thinking", "thinking": "User wants weather; call the tool.", "signature": "EqQBCkYIBxgCKkB..."},
    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
    {"type": "text", "text": "A cat on a sofa. Checking Paris weather.", "citations": [{"type": "char_location", "cited_text": "cat"}]},
    {"type": "tool_use", "id": "toolu_01T1", "name": "get_weather", "input": {"city": "Paris"}}
  ],
  "stop_reason": "tool_use",
  "stop_sequence": null,
  "stop_details": {"anything": true},
  "usage": {"input_tokens": 512, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024, "output_tokens": 96, "service_tier": "standard"}
}"#;

#[test]
fn the_protocol_example_decodes_with_unknown_blocks_skipped() {
    let response = decode_response(EXAMPLE.as_bytes()).unwrap();
    assert_eq!(response.id, "msg_01XFDUDY");
    assert_eq!(response.model, "claude-sonnet-4-5-20250929");
    assert_eq!(response.content.len(), 3, "{:?}", response.content);
    assert_eq!(
        response.content[0],
        ContentPart::Thinking {
            text: "User wants weather; call the tool.".into(),
            signature: Some("EqQBCkYIBxgCKkB...".into()),
        }
    );
    let ContentPart::Text { text, extra } = &response.content[1] else {
        panic!("{:?}", response.content[1]);
    };
    assert_eq!(text, "A cat on a sofa. Checking Paris weather.");
    assert_eq!(extra["citations"][0]["cited_text"], "cat");
    assert_eq!(
        response.tool_calls().collect::<Vec<_>>(),
        vec![("toolu_01T1", "get_weather", &json!({"city": "Paris"}))]
    );
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(response.stop_sequence, None);
    assert_eq!(response.request_id, None);
    assert_eq!(
        response.usage,
        Some(Usage {
            input_tokens: 512 + 1024,
            output_tokens: 96,
            cache_read_tokens: 1024,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
        })
    );
}

#[test]
fn stop_reasons_map_as_the_table_says() {
    let cases = [
        ("end_turn", StopReason::EndTurn),
        ("stop_sequence", StopReason::StopSequence),
        ("max_tokens", StopReason::MaxTokens),
        ("model_context_window_exceeded", StopReason::MaxTokens),
        ("tool_use", StopReason::ToolUse),
        ("refusal", StopReason::ContentFilter),
        ("pause_turn", StopReason::Paused),
        ("brand_new", StopReason::Other("brand_new".into())),
    ];
    for (wire, expected) in cases {
        let body = json!({"id": "msg_1", "model": "m", "content": [], "stop_reason": wire,
                          "stop_sequence": if wire == "stop_sequence" { json!("###") } else { json!(null) }});
        let response = decode_response(body.to_string().as_bytes()).unwrap();
        assert_eq!(response.stop_reason, expected, "{wire}");
        if wire == "stop_sequence" {
            assert_eq!(response.stop_sequence.as_deref(), Some("###"));
        }
    }
}

#[test]
fn usage_with_cache_writes_sums_into_the_input_and_missing_usage_stays_unknown() {
    let body = json!({"id": "msg_1", "model": "m", "content": [], "stop_reason": "end_turn",
                      "usage": {"input_tokens": 3, "cache_creation_input_tokens": 1500,
                                "cache_read_input_tokens": 20, "output_tokens": 9,
                                "output_tokens_details": {"thinking_tokens": 4}}});
    let usage = decode_response(body.to_string().as_bytes())
        .unwrap()
        .usage
        .unwrap();
    assert_eq!(usage.input_tokens, 1523);
    assert_eq!(usage.cache_write_tokens, 1500);
    assert_eq!(usage.cache_read_tokens, 20);
    assert_eq!(usage.output_tokens, 9);
    assert_eq!(usage.reasoning_tokens, 4);

    let body = json!({"id": "msg_1", "model": "m", "content": [], "stop_reason": "end_turn"});
    assert_eq!(
        decode_response(body.to_string().as_bytes()).unwrap().usage,
        None
    );
}

#[test]
fn a_body_that_is_not_a_message_is_an_upstream_error() {
    let err = decode_response(b"<html>oops</html>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    let err = decode_response(
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Overloaded);
}

#[test]
fn encode_response_writes_an_anthropic_message() {
    let response = ChatResponse {
        id: "chatcmpl-9".into(),
        model: "gpt-4.1".into(),
        content: vec![
            ContentPart::Thinking {
                text: "from deepseek".into(),
                signature: None,
            },
            ContentPart::text("Hello"),
            ContentPart::ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: json!("{\"a\":1}"),
                extra: JsonObject::new(),
            },
            ContentPart::ToolCall {
                id: "call_2".into(),
                name: "g".into(),
                arguments: json!("not json"),
                extra: JsonObject::new(),
            },
        ],
        stop_reason: StopReason::ToolUse,
        stop_sequence: None,
        usage: Some(Usage {
            input_tokens: 1000,
            output_tokens: 20,
            cache_read_tokens: 600,
            cache_write_tokens: 100,
            reasoning_tokens: 0,
        }),
        request_id: None,
    };
    let body = encode_response(&response);
    assert_eq!(
        body,
        json!({
            "id": "msg_chatcmpl-9",
            "type": "message",
            "role": "assistant",
            "model": "gpt-4.1",
            "content": [
                {"type": "thinking", "thinking": "from deepseek", "signature": ""},
                {"type": "text", "text": "Hello"},
                {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
                {"type": "tool_use", "id": "call_2", "name": "g", "input": {}},
            ],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {"input_tokens": 300, "cache_creation_input_tokens": 100,
                      "cache_read_input_tokens": 600, "output_tokens": 20},
        })
    );
}

#[test]
fn an_encoded_response_decodes_back_to_the_same_answer() {
    let original = decode_response(EXAMPLE.as_bytes()).unwrap();
    let again = decode_response(encode_response(&original).to_string().as_bytes()).unwrap();
    assert_eq!(again, original);
}
