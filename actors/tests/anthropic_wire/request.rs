//! `encode_request`: messages (system hoisting, turn merging, tool results, thinking replay).

use moxxy_actors::provider::anthropic::encode_request;
use moxxy_actors::{
    ChatRequest, ContentPart, ErrorKind, ImageSource, JsonObject, Message, Role, WireProtocol,
};
use serde_json::{json, Value};

pub(super) fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "claude-sonnet-4-5".into(),
        messages,
        ..ChatRequest::default()
    }
}

pub(super) fn message(role: Role, content: Vec<ContentPart>) -> Message {
    Message {
        role,
        content,
        name: None,
        extra: JsonObject::new(),
    }
}

pub(super) fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

pub(super) fn tool_call(id: &str, arguments: Value) -> ContentPart {
    ContentPart::ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments,
        extra: JsonObject::new(),
    }
}

pub(super) fn tool_result(id: &str, text: &str) -> ContentPart {
    ContentPart::ToolResult {
        tool_call_id: id.into(),
        name: Some("get_weather".into()),
        content: vec![ContentPart::text(text)],
        is_error: false,
    }
}

#[test]
fn system_messages_are_hoisted_with_their_cache_control() {
    let cached = ContentPart::Text {
        text: "You are terse.".into(),
        extra: object(json!({"cache_control": {"type": "ephemeral"}})),
    };
    let body = encode_request(&request(vec![
        message(Role::System, vec![cached]),
        Message::text(Role::User, "hi"),
        Message::text(Role::System, "Answer in French."),
    ]))
    .unwrap();
    assert_eq!(
        body["system"],
        json!([
            {"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Answer in French."},
        ])
    );
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    );
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["max_tokens"], 4096);
    for absent in [
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "stream",
    ] {
        assert!(body.get(absent).is_none(), "{absent} sent unasked");
    }
}

#[test]
fn images_are_sent_as_base64_or_url_sources() {
    let body = encode_request(&request(vec![message(
        Role::User,
        vec![
            ContentPart::text("Describe these."),
            ContentPart::Image {
                source: ImageSource::Base64 {
                    media_type: "image/png".into(),
                    data: "iVBORw0KGgo=".into(),
                },
                detail: Some("high".into()),
                extra: JsonObject::new(),
            },
            ContentPart::Image {
                source: ImageSource::from_url("https://example.com/cat.jpg"),
                detail: None,
                extra: JsonObject::new(),
            },
        ],
    )]))
    .unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "Describe these."},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        ])
    );
}

#[test]
fn tool_results_follow_the_tool_use_turn_in_one_user_turn_before_its_text() {
    // The OpenAI shape: an assistant turn with calls (and empty text), one tool message per
    // result, then the user's next words.
    let body = encode_request(&request(vec![
        Message::text(Role::User, "Weather in Paris and Rome?"),
        message(
            Role::Assistant,
            vec![
                ContentPart::text(""),
                tool_call("toolu_1", json!({"city": "Paris"})),
                tool_call("toolu_2", json!("{\"city\":\"Rome\"}")),
            ],
        ),
        message(Role::Tool, vec![tool_result("toolu_1", "18°C")]),
        message(Role::Tool, vec![tool_result("toolu_2", "25°C")]),
        message(
            Role::User,
            vec![ContentPart::text("Thanks!"), tool_result("toolu_3", "late")],
        ),
    ]))
    .unwrap();
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "25°C"},
                {"type": "tool_result", "tool_use_id": "toolu_3", "content": "late"},
                {"type": "text", "text": "Thanks!"},
            ]},
        ])
    );
}

#[test]
fn tool_results_with_errors_and_images_use_blocks() {
    let result = ContentPart::ToolResult {
        tool_call_id: "toolu_1".into(),
        name: None,
        content: vec![
            ContentPart::text("see"),
            ContentPart::Image {
                source: ImageSource::Url {
                    url: "https://example.com/a.png".into(),
                },
                detail: None,
                extra: JsonObject::new(),
            },
        ],
        is_error: true,
    };
    let body = encode_request(&request(vec![message(Role::User, vec![result])])).unwrap();
    assert_eq!(
        body["messages"][0]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": [
            {"type": "text", "text": "see"},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        ], "is_error": true})
    );
}

#[test]
fn signed_thinking_is_replayed_byte_for_byte_and_unsigned_thinking_is_dropped() {
    let text = "Let me think… \"quoted\" \\ and \u{1F642}\n  indented";
    let signature = "EqQBCkYIBxgCKkB+/==\u{0}odd";
    let body = encode_request(&request(vec![
        Message::text(Role::User, "q"),
        message(
            Role::Assistant,
            vec![
                ContentPart::Thinking {
                    text: text.into(),
                    signature: Some(signature.into()),
                },
                ContentPart::RedactedThinking {
                    data: "EmwKAhgBEgy3va==".into(),
                },
                ContentPart::Thinking {
                    text: "deepseek reasoning".into(),
                    signature: None,
                },
                ContentPart::Thinking {
                    text: "shown to a client with an empty signature".into(),
                    signature: Some(String::new()),
                },
                tool_call("toolu_1", json!({})),
            ],
        ),
        // An assistant turn with nothing but foreign reasoning disappears entirely.
        message(
            Role::Assistant,
            vec![ContentPart::Thinking {
                text: "only reasoning".into(),
                signature: None,
            }],
        ),
        message(Role::Tool, vec![tool_result("toolu_1", "ok")]),
    ]))
    .unwrap();
    let assistant = &body["messages"][1]["content"];
    assert_eq!(
        assistant,
        &json!([
            {"type": "thinking", "thinking": text, "signature": signature},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va=="},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
        ])
    );
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    // Byte for byte on the wire too.
    let wire = body.to_string();
    assert!(wire.contains(&serde_json::to_string(signature).unwrap()));
    assert!(wire.contains(&serde_json::to_string(text).unwrap()));
    assert!(!wire.contains("deepseek reasoning"));
}

#[test]
fn tool_arguments_that_are_not_an_object_are_refused_naming_the_call() {
    let body = encode_request(&request(vec![message(
        Role::Assistant,
        vec![tool_call("call_bad", json!("{\"city\": \"Pa"))],
    )]));
    let err = body.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("call_bad"), "{}", err.message);
    assert_eq!(err.param.as_deref(), Some("messages[0].content[0]"));
}

#[test]
fn part_extras_from_other_protocols_keep_only_what_anthropic_understands() {
    let call = ContentPart::ToolCall {
        id: "call_1".into(),
        name: "f".into(),
        arguments: json!({}),
        extra: object(json!({"extra_content": {"google": {"thought_signature": "x"}}})),
    };
    let text = ContentPart::Text {
        text: "cached".into(),
        extra: object(json!({"cache_control": {"type": "ephemeral"}, "annotations": []})),
    };
    let messages = vec![
        message(Role::User, vec![text]),
        message(Role::Assistant, vec![call]),
    ];
    let openai = encode_request(&ChatRequest {
        extra_protocol: Some(WireProtocol::OpenAi),
        ..request(messages.clone())
    })
    .unwrap();
    assert_eq!(
        openai["messages"][0]["content"][0],
        json!({"type": "text", "text": "cached", "cache_control": {"type": "ephemeral"}})
    );
    assert!(openai["messages"][1]["content"][0]
        .get("extra_content")
        .is_none());

    let anthropic = encode_request(&ChatRequest {
        extra_protocol: Some(WireProtocol::Anthropic),
        ..request(messages)
    })
    .unwrap();
    assert!(anthropic["messages"][0]["content"][0]
        .get("annotations")
        .is_some());
}

#[test]
fn parts_with_no_anthropic_form_are_refused_with_their_place() {
    let image_in_system = request(vec![message(
        Role::System,
        vec![ContentPart::Image {
            source: ImageSource::Url {
                url: "https://e.x/a.png".into(),
            },
            detail: None,
            extra: JsonObject::new(),
        }],
    )]);
    let err = encode_request(&image_in_system).unwrap_err();
    assert_eq!(err.param.as_deref(), Some("messages[0].content[0]"));

    let result_from_assistant =
        request(vec![message(Role::Assistant, vec![tool_result("t", "x")])]);
    let err = encode_request(&result_from_assistant).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("user or tool message"));

    let call_from_user = request(vec![message(Role::User, vec![tool_call("t", json!({}))])]);
    assert!(encode_request(&call_from_user).is_err());
}
