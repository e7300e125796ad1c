//! Unified request → upstream body, per dialect and model family.

use moxxy_actors::provider::openai::{
    encode_request, model_caps, Dialect, DEEPSEEK_REASONING_PLACEHOLDER,
};
use moxxy_actors::{
    ChatRequest, ContentPart, ImageSource, JsonObject, Message, Reasoning, Role, Tool, ToolChoice,
    WireProtocol,
};
use serde_json::{json, Value};

fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![
            Message::text(Role::System, "Be terse."),
            Message::text(Role::User, "Hi"),
        ],
        max_tokens: Some(256),
        temperature: Some(0.7),
        top_p: Some(0.9),
        stop: vec!["END".into()],
        ..ChatRequest::default()
    }
}

fn assistant_with_call(thinking: Option<&str>, extra: JsonObject) -> Message {
    let mut content = Vec::new();
    if let Some(t) = thinking {
        content.push(ContentPart::Thinking {
            text: t.into(),
            signature: None,
        });
    }
    content.push(ContentPart::ToolCall {
        id: "call_1".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Paris"}),
        extra,
    });
    Message {
        role: Role::Assistant,
        content,
        name: None,
        extra: JsonObject::new(),
    }
}

fn tool_result() -> Message {
    Message {
        role: Role::Tool,
        content: vec![ContentPart::ToolResult {
            tool_call_id: "call_1".into(),
            name: Some("get_weather".into()),
            content: vec![ContentPart::text("18°C")],
            is_error: false,
        }],
        name: None,
        extra: JsonObject::new(),
    }
}

#[test]
fn dialects_are_detected_by_host() {
    assert_eq!(
        Dialect::detect("https://api.openai.com/v1"),
        Dialect::OpenAi
    );
    assert_eq!(Dialect::detect("https://API.X.AI/v1/"), Dialect::Xai);
    assert_eq!(
        Dialect::detect("https://generativelanguage.googleapis.com/v1beta/openai"),
        Dialect::Gemini
    );
    assert_eq!(
        Dialect::detect("https://api.deepseek.com:443"),
        Dialect::DeepSeek
    );
    assert_eq!(
        Dialect::detect("http://127.0.0.1:11434/v1"),
        Dialect::Generic
    );
    assert_eq!(
        Dialect::detect("https://api.openai.com.evil.example/v1"),
        Dialect::Generic
    );
}

#[test]
fn reasoning_models_use_max_completion_tokens_developer_and_default_sampling() {
    for model in [
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "o1-2024-12-17",
        "gpt-5.1",
    ] {
        let body = encode_request(&request(model), Dialect::OpenAi).unwrap();
        assert_eq!(body["max_completion_tokens"], 256, "{model}");
        assert!(body.get("max_tokens").is_none(), "{model}");
        assert_eq!(body["messages"][0]["role"], "developer", "{model}");
        assert!(body.get("temperature").is_none(), "{model}");
        assert!(body.get("top_p").is_none(), "{model}");
    }
    for model in ["o3", "o4-mini"] {
        let body = encode_request(&request(model), Dialect::OpenAi).unwrap();
        assert!(body.get("stop").is_none(), "{model} rejects stop");
    }
    let gpt5 = encode_request(&request("gpt-5"), Dialect::OpenAi).unwrap();
    assert_eq!(gpt5["stop"], json!(["END"]));
}

#[test]
fn chat_models_keep_their_sampling_parameters() {
    let body = encode_request(&request("gpt-4.1"), Dialect::OpenAi).unwrap();
    assert_eq!(body["temperature"], 0.7);
    assert_eq!(body["top_p"], 0.9);
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "Be terse."})
    );
    assert_eq!(
        body["max_completion_tokens"], 256,
        "OpenAI takes it on every model"
    );
    for dialect in [Dialect::Generic, Dialect::DeepSeek, Dialect::Gemini] {
        let body = encode_request(&request("some-model"), dialect).unwrap();
        assert_eq!(body["max_tokens"], 256, "{dialect:?}");
    }
    // A relay serving o3 gets the o-series treatment too.
    assert!(model_caps(Dialect::Generic, "openai/o3").developer_role);
    assert!(!model_caps(Dialect::OpenAi, "gpt-4o").reasoning);
}

#[test]
fn xai_reasoning_models_drop_stop_and_penalties() {
    let mut req = request("grok-4");
    req.extra.insert("presence_penalty".into(), json!(0.5));
    req.extra_protocol = Some(WireProtocol::OpenAi);
    let body = encode_request(&req, Dialect::Xai).unwrap();
    assert!(body.get("stop").is_none());
    assert!(body.get("presence_penalty").is_none());
    assert_eq!(body["max_completion_tokens"], 256);
    let body = encode_request(&request("grok-4-fast-non-reasoning"), Dialect::Xai).unwrap();
    assert_eq!(body["stop"], json!(["END"]));
    req.reasoning = Some(Reasoning::Effort {
        level: "high".into(),
    });
    let body = encode_request(&req, Dialect::Xai).unwrap();
    assert!(
        body.get("reasoning_effort").is_none(),
        "grok-4 errors on reasoning_effort"
    );
    req.model = "grok-3-mini".into();
    let body = encode_request(&req, Dialect::Xai).unwrap();
    assert_eq!(body["reasoning_effort"], "high");
}

#[test]
fn content_tools_and_options_are_encoded() {
    let mut req = request("gpt-4.1");
    req.messages.push(Message {
        role: Role::User,
        content: vec![
            ContentPart::text("What is this?"),
            ContentPart::Image {
                source: ImageSource::Base64 {
                    media_type: "image/png".into(),
                    data: "iVBO".into(),
                },
                detail: Some("low".into()),
                extra: JsonObject::new(),
            },
        ],
        name: None,
        extra: JsonObject::new(),
    });
    req.tools = vec![Tool {
        name: "get_weather".into(),
        description: Some("Weather".into()),
        parameters: json!({"type": "object"}),
        strict: Some(true),
        extra: JsonObject::new(),
    }];
    req.tool_choice = Some(ToolChoice::Tool {
        name: "get_weather".into(),
    });
    req.parallel_tool_calls = Some(false);
    req.stream = true;
    req.include_usage = false;
    req.reasoning = Some(Reasoning::Effort {
        level: "low".into(),
    });
    let body = encode_request(&req, Dialect::OpenAi).unwrap();
    assert_eq!(
        body["messages"][2]["content"],
        json!([{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO", "detail": "low"}}])
    );
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "function": {"name": "get_weather", "description": "Weather",
               "parameters": {"type": "object"}, "strict": true}})
    );
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "get_weather"}})
    );
    assert_eq!(body["parallel_tool_calls"], false);
    assert_eq!(body["stream"], true);
    assert_eq!(
        body["stream_options"],
        json!({"include_usage": true}),
        "usage is always asked for"
    );
    assert!(
        body.get("reasoning_effort").is_none(),
        "gpt-4.1 takes no reasoning_effort"
    );
}

#[test]
fn tool_turns_become_tool_calls_and_tool_messages() {
    let mut req = request("gpt-4.1");
    req.messages
        .push(assistant_with_call(Some("private"), JsonObject::new()));
    req.messages.push(tool_result());
    let body = encode_request(&req, Dialect::OpenAi).unwrap();
    let assistant = &body["messages"][2];
    assert_eq!(assistant["content"], Value::Null);
    assert_eq!(
        assistant["tool_calls"],
        json!([{"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
    );
    assert!(
        assistant.get("reasoning_content").is_none(),
        "OpenAI gets no reasoning back"
    );
    assert_eq!(
        body["messages"][3],
        json!({"role": "tool", "tool_call_id": "call_1", "content": "18°C"})
    );
}

#[test]
fn deepseek_replays_reasoning_on_tool_turns_but_not_to_the_reasoner() {
    let mut req = request("deepseek-v4-pro");
    req.messages.push(assistant_with_call(
        Some("I should call the tool."),
        JsonObject::new(),
    ));
    req.messages.push(tool_result());
    req.messages
        .push(assistant_with_call(None, JsonObject::new()));
    let body = encode_request(&req, Dialect::DeepSeek).unwrap();
    assert_eq!(
        body["messages"][2]["reasoning_content"],
        "I should call the tool."
    );
    assert_eq!(
        body["messages"][4]["reasoning_content"],
        DEEPSEEK_REASONING_PLACEHOLDER
    );

    req.model = "deepseek-reasoner".into();
    let body = encode_request(&req, Dialect::DeepSeek).unwrap();
    let messages = body["messages"].as_array().unwrap();
    assert!(messages
        .iter()
        .all(|m| m.get("reasoning_content").is_none()));

    req.model = "deepseek-v4-pro".into();
    req.reasoning = Some(Reasoning::Disabled);
    let body = encode_request(&req, Dialect::DeepSeek).unwrap();
    assert_eq!(body["thinking"], json!({"type": "disabled"}));
    req.reasoning = Some(Reasoning::Effort {
        level: "medium".into(),
    });
    let body = encode_request(&req, Dialect::DeepSeek).unwrap();
    assert_eq!(body["thinking"], json!({"type": "enabled"}));
    assert_eq!(
        body["reasoning_effort"], "high",
        "DeepSeek takes low, high, max"
    );
}

#[test]
fn gemini_thought_signatures_are_echoed() {
    let mut extra = JsonObject::new();
    extra.insert(
        "extra_content".into(),
        json!({"google": {"thought_signature": "c2lnLW9uZQ=="}}),
    );
    extra.insert("cache_control".into(), json!({"type": "ephemeral"}));
    let mut req = request("gemini-3-pro");
    req.messages.push(assistant_with_call(None, extra));
    req.messages.push(tool_result());
    let body = encode_request(&req, Dialect::Gemini).unwrap();
    let call = &body["messages"][2]["tool_calls"][0];
    assert_eq!(
        call["extra_content"]["google"]["thought_signature"],
        "c2lnLW9uZQ=="
    );
    assert!(
        call.get("cache_control").is_none(),
        "foreign fields stay out"
    );
}

#[test]
fn extra_fields_pass_only_from_openai_clients_and_never_override() {
    let mut req = request("gpt-4.1");
    req.extra.insert("seed".into(), json!(7));
    req.extra.insert("model".into(), json!("other"));
    req.extra.insert("stream".into(), json!(true));
    req.extra.insert("messages".into(), json!([]));
    let body = encode_request(&req, Dialect::OpenAi).unwrap();
    assert!(body.get("seed").is_none(), "no extra_protocol: not merged");
    req.extra_protocol = Some(WireProtocol::OpenAi);
    let body = encode_request(&req, Dialect::OpenAi).unwrap();
    assert_eq!(body["seed"], 7);
    assert_eq!(body["model"], "gpt-4.1");
    assert!(body.get("stream").is_none());
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
    req.extra_protocol = Some(WireProtocol::Anthropic);
    let body = encode_request(&req, Dialect::OpenAi).unwrap();
    assert!(body.get("seed").is_none());
}

#[test]
fn anthropic_style_tool_results_in_user_turns_become_tool_messages_first() {
    let mut req = request("gpt-4.1");
    req.messages
        .push(assistant_with_call(None, JsonObject::new()));
    let mut user = tool_result();
    user.role = Role::User;
    user.content.push(ContentPart::text("Thanks"));
    req.messages.push(user);
    let body = encode_request(&req, Dialect::OpenAi).unwrap();
    assert_eq!(body["messages"][3]["role"], "tool");
    assert_eq!(
        body["messages"][4],
        json!({"role": "user", "content": "Thanks"})
    );
}
