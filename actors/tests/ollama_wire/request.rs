//! Unified request -> Ollama `/api/chat` body (PROTOCOLS.md §3.3, §5).

use moxxy_actors::provider::ollama::encode_request;
use moxxy_actors::{
    ChatRequest, ContentPart, ErrorKind, ImageSource, JsonObject, Message, Reasoning,
    ResponseFormat, Role, Tool, ToolChoice, WireProtocol,
};
use serde_json::{json, Value};

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "llama3.2".into(),
        messages,
        ..ChatRequest::default()
    }
}

fn message(role: Role, content: Vec<ContentPart>) -> Message {
    Message {
        role,
        content,
        name: None,
        extra: JsonObject::new(),
    }
}

fn image(source: ImageSource) -> ContentPart {
    ContentPart::Image {
        source,
        detail: None,
        extra: JsonObject::new(),
    }
}

fn call(id: &str, name: &str, arguments: Value) -> ContentPart {
    ContentPart::ToolCall {
        id: id.into(),
        name: name.into(),
        arguments,
        extra: JsonObject::new(),
    }
}

fn result(id: &str, name: Option<&str>, text: &str) -> ContentPart {
    ContentPart::ToolResult {
        tool_call_id: id.into(),
        name: name.map(str::to_string),
        content: vec![ContentPart::text(text)],
        is_error: false,
    }
}

#[test]
fn stream_is_always_explicit_and_the_model_normalized() {
    let mut req = request(vec![Message::text(Role::User, "hi")]);
    let body = encode_request(&req).unwrap();
    assert_eq!(body["stream"], json!(false));
    assert_eq!(body["model"], json!("llama3.2:latest"));
    req.stream = true;
    assert_eq!(encode_request(&req).unwrap()["stream"], json!(true));
    // Nothing unset is sent.
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["model", "messages", "stream"]);
}

#[test]
fn text_parts_are_joined_and_images_sent_as_raw_base64() {
    let req = request(vec![
        Message::text(Role::System, "You are terse."),
        message(
            Role::User,
            vec![
                ContentPart::text("Describe "),
                image(ImageSource::Base64 {
                    media_type: "image/png".into(),
                    data: "iVBORw0KGgo=".into(),
                }),
                ContentPart::text("this."),
            ],
        ),
    ]);
    let body = encode_request(&req).unwrap();
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Describe this.", "images": ["iVBORw0KGgo="]}
        ])
    );
}

#[test]
fn an_image_url_is_refused_with_a_message_saying_why() {
    let req = request(vec![message(
        Role::User,
        vec![image(ImageSource::Url {
            url: "https://example.com/cat.jpg".into(),
        })],
    )]);
    let err = encode_request(&req).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(err.param.as_deref(), Some("messages[0].images"));
    assert!(
        err.message.contains("only inline base64 images"),
        "{}",
        err.message
    );
}

#[test]
fn assistant_calls_thinking_and_tool_results_map_to_ollama_messages() {
    let req = request(vec![
        Message::text(Role::User, "Weather in Paris and Rome?"),
        message(
            Role::Assistant,
            vec![
                ContentPart::Thinking {
                    text: "Two calls.".into(),
                    signature: Some("sig".into()),
                },
                ContentPart::RedactedThinking {
                    data: "opaque".into(),
                },
                call("call_1", "get_weather", json!({"city": "Paris"})),
                // OpenAI-style JSON text is parsed into the object Ollama wants.
                call("call_2", "get_weather", json!("{\"city\":\"Rome\"}")),
            ],
        ),
        // OpenAI style: a tool message, the tool name looked up from the call.
        message(Role::Tool, vec![result("call_1", None, "18°C")]),
        // Anthropic style: results inside a user turn, before the user's own text.
        message(
            Role::User,
            vec![
                result("call_2", Some("get_weather"), "21°C"),
                ContentPart::text("Thanks."),
            ],
        ),
    ]);
    let body = encode_request(&req).unwrap();
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": "", "thinking": "Two calls.", "tool_calls": [
                {"id": "call_1", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"id": "call_2", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}
            ]},
            {"role": "tool", "content": "18°C", "tool_name": "get_weather", "tool_call_id": "call_1"},
            {"role": "tool", "content": "21°C", "tool_name": "get_weather", "tool_call_id": "call_2"},
            {"role": "user", "content": "Thanks."}
        ])
    );
}

#[test]
fn tool_call_arguments_that_are_not_an_object_are_refused() {
    let req = request(vec![message(
        Role::Assistant,
        vec![call("call_1", "f", json!("{not json"))],
    )]);
    let err = encode_request(&req).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(err.param.as_deref(), Some("messages[0].tool_calls"));
    assert!(err.message.contains("JSON object"), "{}", err.message);

    // Empty or absent arguments are an empty object.
    let req = request(vec![message(
        Role::Assistant,
        vec![call("", "f", json!("")), call("c", "g", Value::Null)],
    )]);
    let body = encode_request(&req).unwrap();
    assert_eq!(
        body["messages"][0]["tool_calls"],
        json!([
            {"function": {"name": "f", "arguments": {}}},
            {"id": "c", "function": {"name": "g", "arguments": {}}}
        ])
    );
}

#[test]
fn sampling_settings_go_into_options() {
    let req = ChatRequest {
        temperature: Some(0.5),
        top_p: Some(0.9),
        top_k: Some(40),
        max_tokens: Some(256),
        stop: vec!["</answer>".into()],
        ..request(vec![Message::text(Role::User, "hi")])
    };
    let body = encode_request(&req).unwrap();
    assert_eq!(
        body["options"],
        json!({"temperature": 0.5, "top_p": 0.9, "top_k": 40, "num_predict": 256, "stop": ["</answer>"]})
    );
}

#[test]
fn tools_use_the_function_format_without_strict() {
    let req = ChatRequest {
        tools: vec![Tool {
            name: "get_weather".into(),
            description: Some("Current weather".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
            strict: Some(true),
            extra: JsonObject::new(),
        }],
        tool_choice: Some(ToolChoice::Auto),
        ..request(vec![Message::text(Role::User, "hi")])
    };
    let body = encode_request(&req).unwrap();
    assert_eq!(
        body["tools"],
        json!([{"type": "function", "function": {
            "name": "get_weather", "description": "Current weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    );
    assert!(body.get("tool_choice").is_none());

    // A forced tool cannot be enforced: the tools still go, and it is not an error.
    let forced = ChatRequest {
        tool_choice: Some(ToolChoice::Tool {
            name: "get_weather".into(),
        }),
        ..req.clone()
    };
    let body = encode_request(&forced).unwrap();
    assert_eq!(body["tools"][0]["function"]["name"], json!("get_weather"));
    assert!(body.get("tool_choice").is_none());

    // "none" is honoured by not offering the tools.
    let none = ChatRequest {
        tool_choice: Some(ToolChoice::None),
        ..req
    };
    assert!(encode_request(&none).unwrap().get("tools").is_none());
}

#[test]
fn reasoning_maps_to_think() {
    let cases = [
        (Reasoning::Disabled, json!(false)),
        (Reasoning::Adaptive, json!(true)),
        (Reasoning::Budget { tokens: 2048 }, json!(true)),
        (
            Reasoning::Effort {
                level: "high".into(),
            },
            json!("high"),
        ),
        (
            Reasoning::Effort {
                level: "low".into(),
            },
            json!("low"),
        ),
        (
            Reasoning::Effort {
                level: "max".into(),
            },
            json!("max"),
        ),
        (
            Reasoning::Effort {
                level: "minimal".into(),
            },
            json!("low"),
        ),
        (
            Reasoning::Effort {
                level: "none".into(),
            },
            json!(false),
        ),
    ];
    for (reasoning, think) in cases {
        let req = ChatRequest {
            reasoning: Some(reasoning.clone()),
            ..request(vec![Message::text(Role::User, "hi")])
        };
        assert_eq!(
            encode_request(&req).unwrap()["think"],
            think,
            "{reasoning:?}"
        );
    }
}

#[test]
fn response_format_maps_to_format() {
    let schema = json!({"type": "object", "properties": {"age": {"type": "integer"}}});
    let cases = [
        (ResponseFormat::JsonObject, Some(json!("json"))),
        (
            ResponseFormat::JsonSchema {
                name: "person".into(),
                schema: schema.clone(),
                strict: Some(true),
            },
            Some(schema),
        ),
        (ResponseFormat::Text, None),
    ];
    for (format, expected) in cases {
        let req = ChatRequest {
            response_format: Some(format),
            ..request(vec![Message::text(Role::User, "hi")])
        };
        assert_eq!(
            encode_request(&req).unwrap().get("format").cloned(),
            expected
        );
    }
}

#[test]
fn ollama_extra_is_merged_key_by_key_and_never_overrides() {
    let mut extra = JsonObject::new();
    extra.insert("keep_alive".into(), json!("24h"));
    extra.insert(
        "options".into(),
        json!({"num_ctx": 8192, "temperature": 1.5}),
    );
    extra.insert("stream".into(), json!(true));
    let req = ChatRequest {
        temperature: Some(0.2),
        extra,
        extra_protocol: Some(WireProtocol::Ollama),
        ..request(vec![Message::text(Role::User, "hi")])
    };
    let body = encode_request(&req).unwrap();
    assert_eq!(body["keep_alive"], json!("24h"));
    assert_eq!(
        body["options"],
        json!({"temperature": 0.2, "num_ctx": 8192})
    );
    assert_eq!(body["stream"], json!(false));

    // Options only in extra still arrive.
    let only_extra = ChatRequest {
        temperature: None,
        ..req.clone()
    };
    assert_eq!(
        encode_request(&only_extra).unwrap()["options"],
        json!({"num_ctx": 8192, "temperature": 1.5})
    );

    // Another protocol's extra fields never reach Ollama.
    let foreign = ChatRequest {
        extra_protocol: Some(WireProtocol::OpenAi),
        ..req
    };
    let body = encode_request(&foreign).unwrap();
    assert!(body.get("keep_alive").is_none());
    assert_eq!(body["options"], json!({"temperature": 0.2}));
}
