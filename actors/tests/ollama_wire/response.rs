//! Non-streamed answers (`stream:false`, PROTOCOLS.md §3.4–3.5), both directions.

use moxxy_actors::provider::ollama::{decode_response, encode_response};
use moxxy_actors::{ChatResponse, ContentPart, ErrorKind, JsonObject, StopReason, Usage};
use serde_json::json;

#[test]
fn thinking_text_and_tool_calls_in_order_with_tool_use() {
    let body = json!({
        "model": "qwen3", "created_at": "2025-07-07T20:32:53.84Z",
        "message": {"role": "assistant", "content": "Checking.", "thinking": "Need the weather.",
            "tool_calls": [
                {"id": "call_k3j9x2ab", "function": {"index": 0, "name": "get_weather",
                                                     "arguments": {"city": "Tokyo", "days": 2}}},
                {"function": {"name": "get_time", "arguments": {}}}
            ]},
        "done": true, "done_reason": "stop", "total_duration": 1, "prompt_eval_count": 40, "eval_count": 12
    });
    let resp = decode_response(body.to_string().as_bytes()).unwrap();
    assert!(resp.id.starts_with("msg_"), "{}", resp.id);
    assert_eq!(resp.model, "qwen3");
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    assert_eq!(
        resp.usage,
        Some(Usage {
            input_tokens: 40,
            output_tokens: 12,
            ..Usage::default()
        })
    );
    assert_eq!(
        resp.content[0],
        ContentPart::Thinking {
            text: "Need the weather.".into(),
            signature: None
        }
    );
    assert_eq!(resp.content[1], ContentPart::text("Checking."));
    let calls: Vec<_> = resp.tool_calls().collect();
    assert_eq!(
        calls[0],
        (
            "call_k3j9x2ab",
            "get_weather",
            &json!({"city": "Tokyo", "days": 2})
        )
    );
    // Older servers send no id: one is generated so the client can answer the call.
    assert!(
        calls[1].0.starts_with("call_") && calls[1].0.len() > 5,
        "{}",
        calls[1].0
    );
    assert_eq!((calls[1].1, calls[1].2), ("get_time", &json!({})));
}

#[test]
fn stop_reasons_and_missing_metrics() {
    let resp = decode_response(
        br#"{"model":"m","message":{"role":"assistant","content":"Hi"},"done":true,"done_reason":"stop"}"#,
    )
    .unwrap();
    assert_eq!(resp.stop_reason, StopReason::EndTurn);
    assert_eq!(resp.text(), "Hi");
    // Ollama omits zero counts: a final object still has usage, with zeros.
    assert_eq!(resp.usage, Some(Usage::default()));

    let resp = decode_response(
        br#"{"model":"m","message":{"role":"assistant","content":"Hi"},"done":true,"done_reason":"length","eval_count":5}"#,
    )
    .unwrap();
    assert_eq!(resp.stop_reason, StopReason::MaxTokens);
    assert_eq!(
        resp.usage.map(|u| (u.input_tokens, u.output_tokens)),
        Some((0, 5))
    );

    // An object that is not final and reports no counts has no usage: none is not zero.
    let resp =
        decode_response(br#"{"model":"m","message":{"role":"assistant","content":"Hi"}}"#).unwrap();
    assert_eq!(resp.usage, None);

    // Nulls are absent.
    let resp = decode_response(
        br#"{"model":"m","message":{"role":"assistant","content":null,"thinking":null,"tool_calls":null},"done":true,"done_reason":null}"#,
    )
    .unwrap();
    assert!(resp.content.is_empty());
    assert_eq!(resp.stop_reason, StopReason::EndTurn);
}

#[test]
fn error_bodies_load_answers_and_garbage_are_errors() {
    let err = decode_response(br#"{"error":"an error was encountered while running the model"}"#)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(
        err.message.contains("an error was encountered"),
        "{}",
        err.message
    );

    let err = decode_response(br#"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"load"}"#)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(err.message.contains("loaded the model"), "{}", err.message);

    let err = decode_response(b"<html>bad gateway</html>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    // A streamed body where one object was expected.
    let two_lines = b"{\"done\":false}\n{\"done\":true}\n";
    assert_eq!(
        decode_response(two_lines).unwrap_err().kind,
        ErrorKind::Upstream
    );
}

#[test]
fn encode_response_is_ollamas_final_object_and_decodes_back() {
    let resp = ChatResponse {
        id: "msg_1".into(),
        model: "llama3.2".into(),
        content: vec![
            ContentPart::Thinking {
                text: "Hmm.".into(),
                signature: Some("ignored".into()),
            },
            ContentPart::text("Calling."),
            ContentPart::ToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
                extra: JsonObject::new(),
            },
        ],
        stop_reason: StopReason::ToolUse,
        stop_sequence: None,
        usage: Some(Usage {
            input_tokens: 10,
            output_tokens: 4,
            ..Usage::default()
        }),
        request_id: None,
    };
    let body = encode_response(&resp);
    assert_eq!(body["done"], json!(true));
    assert_eq!(body["done_reason"], json!("stop"));
    assert_eq!(body["prompt_eval_count"], json!(10));
    assert_eq!(body["eval_count"], json!(4));
    assert_eq!(
        body["message"],
        json!({"role": "assistant", "content": "Calling.", "thinking": "Hmm.",
               "tool_calls": [{"id": "call_1", "function": {"index": 0, "name": "get_weather",
                                                            "arguments": {"city": "Paris"}}}]})
    );
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));

    let back = decode_response(body.to_string().as_bytes()).unwrap();
    assert_eq!(back.model, resp.model);
    assert_eq!(back.stop_reason, StopReason::ToolUse);
    assert_eq!(back.usage, resp.usage);
    let mut expected = resp.content.clone();
    expected[0] = ContentPart::Thinking {
        text: "Hmm.".into(),
        signature: None,
    };
    assert_eq!(back.content, expected);

    let length = ChatResponse {
        stop_reason: StopReason::MaxTokens,
        usage: None,
        ..resp
    };
    let body = encode_response(&length);
    assert_eq!(body["done_reason"], json!("length"));
    assert!(body.get("eval_count").is_none());
}
