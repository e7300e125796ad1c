//! `decode_request`: a client's Anthropic request body as a unified request, and the round trip
//! through `encode_request`.

use moxxy_actors::provider::anthropic::{decode_request, encode_request};
use moxxy_actors::{
    ChatRequest, ContentPart, ErrorKind, ImageSource, JsonObject, Message, Reasoning,
    ResponseFormat, Role, ToolChoice, WireProtocol,
};
use serde_json::{json, Value};

fn decode(body: Value) -> ChatRequest {
    decode_request(body.to_string().as_bytes()).unwrap()
}

/// The error for `body`: its `param` and its message.
fn refusal(body: Value) -> (Option<String>, String) {
    let err = decode_request(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    (err.param, err.message)
}

fn minimal() -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 100,
           "messages": [{"role": "user", "content": "hi"}]})
}

fn with(field: &str, value: Value) -> Value {
    let mut body = minimal();
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = minimal();
    body.as_object_mut().unwrap().remove(field);
    body
}

#[test]
fn errors_name_the_field_and_say_what_to_fix() {
    let cases = [
        (without("messages"), "messages", "messages: field required"),
        (without("model"), "model", "model: field required"),
        (
            without("max_tokens"),
            "max_tokens",
            "max_tokens: field required",
        ),
        (
            with("max_tokens", json!("ten")),
            "max_tokens",
            "max_tokens: expected a non-negative integer",
        ),
        (
            with("max_tokens", json!(-1)),
            "max_tokens",
            "max_tokens: expected a non-negative integer",
        ),
        (
            with("messages", json!({})),
            "messages",
            "messages: expected an array",
        ),
        (
            with("messages", json!([])),
            "messages",
            "messages: at least one message is required",
        ),
        (
            with("messages", json!([{"role": "bot", "content": "x"}])),
            "messages[0].role",
            "messages[0].role: expected \"user\" or \"assistant\"",
        ),
        (
            with("messages", json!([{"role": "user"}])),
            "messages[0].content",
            "messages[0].content: field required",
        ),
        (
            with(
                "messages",
                json!([{"role": "user", "content": [{"type": "text"}]}]),
            ),
            "messages[0].content[0].text",
            "messages[0].content[0].text: field required",
        ),
        (
            with(
                "messages",
                json!([{"role": "user", "content": [
                {"type": "text", "text": "a"}, {"type": "document", "source": {}}]}]),
            ),
            "messages[0].content[1].type",
            "messages[0].content[1].type: unsupported block type 'document'",
        ),
        (
            with(
                "messages",
                json!([{"role": "user", "content": [
                {"type": "image", "source": {"type": "file", "file_id": "f"}}]}]),
            ),
            "messages[0].content[0].source.type",
            "messages[0].content[0].source.type: unsupported image source type 'file'",
        ),
        (
            with("temperature", json!("hot")),
            "temperature",
            "temperature: expected a number",
        ),
        (
            with("stream", json!("yes")),
            "stream",
            "stream: expected true or false",
        ),
        (
            with("stop_sequences", json!(["a", 1])),
            "stop_sequences[1]",
            "stop_sequences[1]: expected a string",
        ),
        (
            with("tools", json!([{"name": "f"}])),
            "tools[0].input_schema",
            "tools[0].input_schema: field required",
        ),
        (
            with("tool_choice", json!({"type": "tool"})),
            "tool_choice.name",
            "tool_choice.name: field required",
        ),
        (
            with("thinking", json!({"type": "enabled"})),
            "thinking.budget_tokens",
            "thinking.budget_tokens: field required",
        ),
        (
            with("system", json!(5)),
            "system",
            "system: expected a string or an array of text blocks",
        ),
    ];
    for (body, param, message) in cases {
        let (got_param, got_message) = refusal(body);
        assert_eq!(got_param.as_deref(), Some(param));
        assert!(
            got_message.starts_with(message),
            "{got_message:?} should start with {message:?}"
        );
    }
    let err = decode_request(b"{not json").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.starts_with("request body: not valid JSON"));
    assert!(decode_request(b"[1]")
        .unwrap_err()
        .message
        .contains("JSON object"));
}

#[test]
fn a_full_request_decodes_into_the_unified_form() {
    let req = decode(json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "call it", "signature": "sig=="},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C",
                 "cache_control": {"type": "ephemeral"}},
            ]},
        ],
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
                  {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "metadata": {"user_id": "u-1"},
        "thinking": {"type": "enabled", "budget_tokens": 2048, "display": "omitted"},
        "stop_sequences": ["###"],
        "top_k": 5,
        "stream": true,
        "service_tier": "auto",
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
    }));
    assert_eq!(req.model, "claude-sonnet-4-5");
    assert_eq!(req.max_tokens, Some(4096));
    assert_eq!(req.messages.len(), 4);
    assert_eq!(req.messages[0].role, Role::System);
    assert_eq!(
        req.messages[0].content[0],
        ContentPart::Text {
            text: "You are terse.".into(),
            extra: json!({"cache_control": {"type": "ephemeral"}})
                .as_object()
                .unwrap()
                .clone(),
        }
    );
    assert!(matches!(
        &req.messages[1].content[1],
        ContentPart::Image { source: ImageSource::Base64 { media_type, .. }, .. } if media_type == "image/png"
    ));
    assert_eq!(
        req.messages[2].content[0],
        ContentPart::Thinking {
            text: "call it".into(),
            signature: Some("sig==".into())
        }
    );
    // The tool result sits in a user message; its cache breakpoint moved onto its content.
    assert_eq!(req.messages[3].role, Role::User);
    let ContentPart::ToolResult {
        tool_call_id,
        content,
        is_error,
        ..
    } = &req.messages[3].content[0]
    else {
        panic!("{:?}", req.messages[3]);
    };
    assert_eq!(tool_call_id, "toolu_1");
    assert!(!is_error);
    assert!(
        matches!(&content[0], ContentPart::Text { text, extra } if text == "18°C" && extra.contains_key("cache_control"))
    );

    assert_eq!(req.tools.len(), 2);
    assert!(req.tools[0].extra.contains_key("cache_control"));
    assert_eq!(req.tools[1].parameters, Value::Null);
    assert_eq!(req.tools[1].extra["type"], "web_search_20250305");
    assert_eq!(req.tool_choice, Some(ToolChoice::Required));
    assert_eq!(req.parallel_tool_calls, Some(false));
    assert_eq!(req.user.as_deref(), Some("u-1"));
    assert_eq!(req.reasoning, Some(Reasoning::Budget { tokens: 2048 }));
    assert_eq!(req.stop, vec!["###".to_string()]);
    assert_eq!(req.top_k, Some(5));
    assert!(req.stream && req.include_usage);
    assert!(matches!(
        req.response_format,
        Some(ResponseFormat::JsonSchema { .. })
    ));
    assert_eq!(req.extra_protocol, Some(WireProtocol::Anthropic));
    assert_eq!(req.extra["service_tier"], "auto");
    assert_eq!(req.extra["thinking"], json!({"display": "omitted"}));

    // Re-encoded for Anthropic, nothing the client sent is lost.
    let body = encode_request(&req).unwrap();
    assert_eq!(body["service_tier"], "auto");
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048, "display": "omitted"})
    );
    assert_eq!(
        body["tools"][1],
        json!({"name": "web_search", "type": "web_search_20250305", "max_uses": 2})
    );
    assert_eq!(
        body["messages"][2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_1",
               "content": [{"type": "text", "text": "18°C", "cache_control": {"type": "ephemeral"}}]})
    );
}

#[test]
fn effort_and_adaptive_thinking_become_an_effort_level() {
    let req = decode(with("output_config", json!({"effort": "high"})));
    assert_eq!(
        req.reasoning,
        Some(Reasoning::Effort {
            level: "high".into()
        })
    );
    let mut body = with("thinking", json!({"type": "adaptive"}));
    body["output_config"] = json!({"effort": "max"});
    assert_eq!(
        decode(body).reasoning,
        Some(Reasoning::Effort {
            level: "max".into()
        })
    );
    let req = decode(with("thinking", json!({"type": "adaptive"})));
    assert_eq!(req.reasoning, Some(Reasoning::Adaptive));
    // A budget and an effort together: the effort rides in extra, and reaches Anthropic.
    let mut body = with(
        "thinking",
        json!({"type": "enabled", "budget_tokens": 1024}),
    );
    body["output_config"] = json!({"effort": "low"});
    let req = decode(body);
    assert_eq!(req.reasoning, Some(Reasoning::Budget { tokens: 1024 }));
    assert_eq!(
        encode_request(&req).unwrap()["output_config"],
        json!({"effort": "low"})
    );
}

#[test]
fn nulls_count_as_absent_and_empty_signatures_as_none() {
    let req = decode(json!({
        "model": "m", "max_tokens": 1, "system": null, "temperature": null, "tools": null,
        "messages": [{"role": "assistant", "content": [
            {"type": "thinking", "thinking": "shown by Moxxy", "signature": ""}]}],
    }));
    assert_eq!(req.temperature, None);
    assert!(req.tools.is_empty());
    assert_eq!(req.messages.len(), 1);
    assert_eq!(
        req.messages[0].content[0],
        ContentPart::Thinking {
            text: "shown by Moxxy".into(),
            signature: None
        }
    );
}

#[test]
fn decoding_an_encoded_request_preserves_the_conversation() {
    let cached = json!({"cache_control": {"type": "ephemeral"}})
        .as_object()
        .unwrap()
        .clone();
    let original = ChatRequest {
        model: "claude-opus-4-7".into(),
        max_tokens: Some(2000),
        messages: vec![
            Message {
                role: Role::System,
                content: vec![ContentPart::Text {
                    text: "Be brief.".into(),
                    extra: cached.clone(),
                }],
                name: None,
                extra: JsonObject::new(),
            },
            Message {
                role: Role::User,
                content: vec![
                    ContentPart::text("Look:"),
                    ContentPart::Image {
                        source: ImageSource::Url {
                            url: "https://e.x/cat.jpg".into(),
                        },
                        detail: None,
                        extra: JsonObject::new(),
                    },
                ],
                name: None,
                extra: JsonObject::new(),
            },
            Message {
                role: Role::Assistant,
                content: vec![
                    ContentPart::Thinking {
                        text: "t\u{e9}".into(),
                        signature: Some("s/+=".into()),
                    },
                    ContentPart::RedactedThinking {
                        data: "opaque".into(),
                    },
                    ContentPart::text("Calling."),
                    ContentPart::ToolCall {
                        id: "toolu_9".into(),
                        name: "f".into(),
                        arguments: json!({"a": [1, 2]}),
                        extra: JsonObject::new(),
                    },
                ],
                name: None,
                extra: JsonObject::new(),
            },
            Message {
                role: Role::User,
                content: vec![
                    ContentPart::ToolResult {
                        tool_call_id: "toolu_9".into(),
                        name: None,
                        content: vec![ContentPart::text("done")],
                        is_error: true,
                    },
                    ContentPart::Text {
                        text: "next".into(),
                        extra: cached,
                    },
                ],
                name: None,
                extra: JsonObject::new(),
            },
        ],
        temperature: Some(0.5),
        stop: vec!["END".into()],
        user: Some("u".into()),
        reasoning: Some(Reasoning::Effort {
            level: "medium".into(),
        }),
        stream: true,
        ..ChatRequest::default()
    };
    let body = encode_request(&original).unwrap();
    let decoded = decode_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(decoded.messages, original.messages);
    assert_eq!(decoded.model, original.model);
    assert_eq!(decoded.max_tokens, original.max_tokens);
    assert_eq!(decoded.temperature, original.temperature);
    assert_eq!(decoded.stop, original.stop);
    assert_eq!(decoded.user, original.user);
    assert_eq!(decoded.reasoning, original.reasoning);
    assert!(decoded.stream);
    assert!(decoded.extra.is_empty(), "{:?}", decoded.extra);
}
