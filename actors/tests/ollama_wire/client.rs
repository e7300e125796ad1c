//! An Ollama client's `/api/chat` body -> unified request, and round trips through
//! `encode_request`.

use moxxy_actors::provider::ollama::{decode_request, encode_request};
use moxxy_actors::{
    ChatRequest, ContentPart, ErrorKind, ImageSource, JsonObject, Message, Reasoning,
    ResponseFormat, Role, Tool, WireProtocol,
};
use serde_json::json;

fn decode(body: serde_json::Value) -> ChatRequest {
    decode_request(body.to_string().as_bytes()).unwrap()
}

#[test]
fn a_full_request_maps_every_field() {
    let req = decode(json!({
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is this?", "images": ["/9j/4AAQSkZJRg=="]}
        ],
        "tools": [{"type": "function", "function": {"name": "f", "description": "d",
                   "parameters": {"type": "object"}}}],
        "format": "json",
        "options": {"temperature": 0.3, "top_p": 0.8, "top_k": 20, "num_predict": 100,
                    "stop": ["\n\n"], "num_ctx": 8192, "seed": 7},
        "think": "medium",
        "keep_alive": "10m",
        "truncate": null
    }));
    assert_eq!(req.model, "llama3.2");
    assert_eq!(req.messages[0], Message::text(Role::System, "Be brief."));
    assert_eq!(
        req.messages[1].content,
        [
            ContentPart::text("What is this?"),
            ContentPart::Image {
                source: ImageSource::Base64 {
                    media_type: "image/jpeg".into(),
                    data: "/9j/4AAQSkZJRg==".into()
                },
                detail: None,
                extra: JsonObject::new(),
            }
        ]
    );
    assert_eq!(req.tools[0].name, "f");
    assert_eq!(req.response_format, Some(ResponseFormat::JsonObject));
    assert_eq!(req.temperature, Some(0.3));
    assert_eq!(req.top_p, Some(0.8));
    assert_eq!(req.top_k, Some(20));
    assert_eq!(req.max_tokens, Some(100));
    assert_eq!(req.stop, ["\n\n"]);
    assert_eq!(
        req.reasoning,
        Some(Reasoning::Effort {
            level: "medium".into()
        })
    );
    // Ollama streams unless told not to, and always reports usage.
    assert!(req.stream);
    assert!(req.include_usage);
    // What the unified request does not model waits in extra for an Ollama upstream; nulls are
    // absent.
    assert_eq!(
        serde_json::Value::Object(req.extra.clone()),
        json!({"keep_alive": "10m", "options": {"num_ctx": 8192, "seed": 7}})
    );
    assert_eq!(req.extra_protocol, Some(WireProtocol::Ollama));
}

#[test]
fn unlimited_num_predict_and_think_bools() {
    let req = decode(json!({"model": "m", "messages": [], "stream": false,
                            "options": {"num_predict": -1}, "think": false}));
    assert_eq!(req.max_tokens, None);
    assert!(!req.stream);
    assert_eq!(req.reasoning, Some(Reasoning::Disabled));
    assert!(req.extra.is_empty());
    assert_eq!(req.extra_protocol, None);
    let req = decode(json!({"model": "m", "think": true, "format": {"type": "object"}}));
    assert_eq!(req.reasoning, Some(Reasoning::Adaptive));
    assert!(matches!(
        req.response_format,
        Some(ResponseFormat::JsonSchema { ref schema, .. }) if *schema == json!({"type": "object"})
    ));
}

#[test]
fn tool_messages_without_ids_are_paired_with_their_calls() {
    let req = decode(json!({"model": "qwen3", "messages": [
        {"role": "user", "content": "Weather in Tokyo and Paris?"},
        {"role": "assistant", "content": "", "thinking": "Two cities.", "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
            {"id": "call_b", "function": {"name": "get_time", "arguments": {"city": "Paris"}}}
        ]},
        {"role": "tool", "content": "It's 09:00", "tool_name": "get_time"},
        {"role": "tool", "content": "Sunny", "tool_name": "get_weather"}
    ]}));
    let assistant = &req.messages[1].content;
    assert_eq!(
        assistant[0],
        ContentPart::Thinking {
            text: "Two cities.".into(),
            signature: None
        }
    );
    let ContentPart::ToolCall {
        id: tokyo_id,
        arguments,
        ..
    } = &assistant[1]
    else {
        panic!("expected a call, got {assistant:?}");
    };
    assert!(tokyo_id.starts_with("call_"), "{tokyo_id}");
    assert_eq!(*arguments, json!({"city": "Tokyo"}));

    let ContentPart::ToolResult {
        tool_call_id,
        name,
        content,
        ..
    } = &req.messages[2].content[0]
    else {
        panic!("expected a result");
    };
    assert_eq!(tool_call_id, "call_b");
    assert_eq!(name.as_deref(), Some("get_time"));
    assert_eq!(content, &[ContentPart::text("It's 09:00")]);
    let ContentPart::ToolResult { tool_call_id, .. } = &req.messages[3].content[0] else {
        panic!("expected a result");
    };
    assert_eq!(tool_call_id, tokyo_id);
}

#[test]
fn invalid_requests_name_the_field_to_fix() {
    let cases = [
        (json!({"messages": []}), "model"),
        (json!({"model": "", "messages": []}), "model"),
        (json!({"model": "m", "messages": {}}), "messages"),
        (
            json!({"model": "m", "messages": [{"role": "bot", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
            "messages[0].content",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "", "images": ["a", 1]}]}),
            "messages[0].images[1]",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "content": "",
                "tool_calls": [{"function": {"arguments": {}}}]}]}),
            "messages[0].tool_calls[0].function.name",
        ),
        (
            json!({"model": "m", "options": {"temperature": "hot"}}),
            "options.temperature",
        ),
        (
            json!({"model": "m", "options": {"top_k": -3}}),
            "options.top_k",
        ),
        (
            json!({"model": "m", "options": {"stop": [1]}}),
            "options.stop[0]",
        ),
        (json!({"model": "m", "options": []}), "options"),
        (json!({"model": "m", "stream": "yes"}), "stream"),
        (json!({"model": "m", "think": 3}), "think"),
        (json!({"model": "m", "format": "xml"}), "format"),
        (
            json!({"model": "m", "tools": [{"type": "function", "function": {}}]}),
            "tools[0].function.name",
        ),
        (
            json!({"model": "m", "tools": [{"type": "retrieval"}]}),
            "tools[0].type",
        ),
    ];
    for (body, param) in cases {
        let err = decode_request(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest, "{body}");
        assert_eq!(err.param.as_deref(), Some(param), "{body}: {}", err.message);
        assert!(err.message.contains(param), "{body}: {}", err.message);
    }
    let err = decode_request(b"{not json").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("not valid JSON"), "{}", err.message);
    let err = decode_request(b"[1, 2]").unwrap_err();
    assert!(err.message.contains("JSON object"), "{}", err.message);
}

#[test]
fn decode_request_inverts_encode_request() {
    let original = ChatRequest {
        model: "llama3.2:latest".into(),
        messages: vec![
            Message::text(Role::System, "Be brief."),
            Message {
                role: Role::User,
                content: vec![
                    ContentPart::text("Weather here?"),
                    ContentPart::Image {
                        source: ImageSource::Base64 {
                            media_type: "image/png".into(),
                            data: "iVBORw0KGgo=".into(),
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
                        text: "Call the tool.".into(),
                        signature: None,
                    },
                    ContentPart::text("Checking."),
                    ContentPart::ToolCall {
                        id: "call_1".into(),
                        name: "get_weather".into(),
                        arguments: json!({"city": "Paris", "units": "C"}),
                        extra: JsonObject::new(),
                    },
                ],
                name: None,
                extra: JsonObject::new(),
            },
            Message {
                role: Role::Tool,
                content: vec![ContentPart::ToolResult {
                    tool_call_id: "call_1".into(),
                    name: Some("get_weather".into()),
                    content: vec![ContentPart::text("18°C 🙂")],
                    is_error: false,
                }],
                name: None,
                extra: JsonObject::new(),
            },
        ],
        max_tokens: Some(512),
        temperature: Some(0.7),
        top_p: Some(0.95),
        top_k: Some(50),
        stop: vec!["END".into()],
        tools: vec![Tool {
            name: "get_weather".into(),
            description: Some("Weather for a city".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
            strict: None,
            extra: JsonObject::new(),
        }],
        reasoning: Some(Reasoning::Effort {
            level: "high".into(),
        }),
        response_format: Some(ResponseFormat::JsonObject),
        stream: true,
        include_usage: true,
        extra: [("keep_alive".to_string(), json!("5m"))]
            .into_iter()
            .collect(),
        extra_protocol: Some(WireProtocol::Ollama),
        ..ChatRequest::default()
    };
    let body = encode_request(&original).unwrap();
    let decoded = decode_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(decoded, original);

    // And the other way: an Ollama body survives decode then encode.
    let again = encode_request(&decoded).unwrap();
    assert_eq!(again, body);
}
