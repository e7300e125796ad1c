//! `encode_request`: tools, tool choice, sampling options, reasoning and pass-through fields.

use moxxy_actors::provider::anthropic::encode_request;
use moxxy_actors::{
    ChatRequest, JsonObject, Message, Reasoning, ResponseFormat, Role, Tool, ToolChoice,
    WireProtocol,
};
use serde_json::{json, Value};

use super::request::{object, request};

fn tools_request() -> ChatRequest {
    ChatRequest {
        tools: vec![
            Tool {
                name: "get_weather".into(),
                description: Some("Current weather for a city".into()),
                parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
                strict: Some(true),
                extra: object(json!({"cache_control": {"type": "ephemeral"}})),
            },
            Tool {
                name: "now".into(),
                description: None,
                parameters: Value::Null,
                strict: None,
                extra: JsonObject::new(),
            },
        ],
        ..request(vec![Message::text(Role::User, "hi")])
    }
}

#[test]
fn tools_are_sent_with_their_schema_and_extras() {
    let body = encode_request(&tools_request()).unwrap();
    assert_eq!(
        body["tools"],
        json!([
            {"name": "get_weather", "description": "Current weather for a city",
             "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
             "strict": true, "cache_control": {"type": "ephemeral"}},
            {"name": "now", "input_schema": {"type": "object", "properties": {}}},
        ])
    );
    assert!(body.get("tool_choice").is_none());
}

#[test]
fn tool_choice_and_parallel_calls_map_to_anthropic_forms() {
    let cases = [
        (Some(ToolChoice::Auto), None, json!({"type": "auto"})),
        (Some(ToolChoice::None), Some(false), json!({"type": "none"})),
        (Some(ToolChoice::Required), None, json!({"type": "any"})),
        (
            Some(ToolChoice::Tool { name: "now".into() }),
            Some(false),
            json!({"type": "tool", "name": "now", "disable_parallel_tool_use": true}),
        ),
        (
            Some(ToolChoice::Required),
            Some(false),
            json!({"type": "any", "disable_parallel_tool_use": true}),
        ),
        (
            None,
            Some(false),
            json!({"type": "auto", "disable_parallel_tool_use": true}),
        ),
        (Some(ToolChoice::Auto), Some(true), json!({"type": "auto"})),
    ];
    for (choice, parallel, expected) in cases {
        let req = ChatRequest {
            tool_choice: choice.clone(),
            parallel_tool_calls: parallel,
            ..tools_request()
        };
        assert_eq!(
            encode_request(&req).unwrap()["tool_choice"],
            expected,
            "{choice:?} {parallel:?}"
        );
    }
    // Without tools Anthropic rejects tool_choice: it is not sent.
    let req = ChatRequest {
        tool_choice: Some(ToolChoice::Required),
        ..request(vec![Message::text(Role::User, "hi")])
    };
    assert!(encode_request(&req).unwrap().get("tool_choice").is_none());
}

#[test]
fn sampling_stop_user_stream_and_format_are_sent_when_set() {
    let req = ChatRequest {
        max_tokens: Some(300),
        temperature: Some(0.2),
        top_p: Some(0.9),
        top_k: Some(40),
        stop: vec!["###".into()],
        user: Some("user-42".into()),
        stream: true,
        response_format: Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            schema: json!({"type": "object"}),
            strict: Some(true),
        }),
        ..request(vec![Message::text(Role::User, "hi")])
    };
    let body = encode_request(&req).unwrap();
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["top_p"], 0.9);
    assert_eq!(body["top_k"], 40);
    assert_eq!(body["stop_sequences"], json!(["###"]));
    assert_eq!(body["metadata"], json!({"user_id": "user-42"}));
    assert_eq!(body["stream"], true);
    assert_eq!(
        body["output_config"],
        json!({"format": {"type": "json_schema", "schema": {"type": "object"}}})
    );
}

#[test]
fn reasoning_maps_to_thinking_and_max_tokens_stays_above_the_budget() {
    let with = |reasoning: Reasoning, max_tokens: Option<u32>| {
        encode_request(&ChatRequest {
            reasoning: Some(reasoning),
            max_tokens,
            ..request(vec![Message::text(Role::User, "hi")])
        })
        .unwrap()
    };
    let body = with(Reasoning::Budget { tokens: 2048 }, None);
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(body["max_tokens"], 4096);

    let body = with(Reasoning::Budget { tokens: 8000 }, Some(1000));
    assert_eq!(body["max_tokens"], 8000 + 4096);
    let body = with(Reasoning::Budget { tokens: 10 }, None);
    assert_eq!(body["thinking"]["budget_tokens"], 1024);
    let body = with(Reasoning::Budget { tokens: 0 }, None);
    assert_eq!(body["thinking"], json!({"type": "disabled"}));

    assert_eq!(
        with(Reasoning::Adaptive, None)["thinking"],
        json!({"type": "adaptive"})
    );
    assert_eq!(
        with(Reasoning::Disabled, None)["thinking"],
        json!({"type": "disabled"})
    );
    let body = with(
        Reasoning::Effort {
            level: "high".into(),
        },
        None,
    );
    assert_eq!(body["thinking"], json!({"type": "adaptive"}));
    assert_eq!(body["output_config"], json!({"effort": "high"}));
    let body = with(
        Reasoning::Effort {
            level: "minimal".into(),
        },
        None,
    );
    assert_eq!(body["output_config"]["effort"], "low");
    let body = with(
        Reasoning::Effort {
            level: "none".into(),
        },
        None,
    );
    assert_eq!(body["thinking"], json!({"type": "disabled"}));
    assert!(body.get("output_config").is_none());
}

#[test]
fn extra_fields_pass_through_only_from_an_anthropic_client_and_never_override() {
    let extra = object(json!({
        "container": "cntr_1",
        "model": "claude-evil",
        "thinking": {"display": "omitted", "type": "disabled"},
        "metadata": {"tenant": "t1"},
    }));
    let base = ChatRequest {
        reasoning: Some(Reasoning::Budget { tokens: 2048 }),
        user: Some("u".into()),
        extra,
        ..request(vec![Message::text(Role::User, "hi")])
    };
    let anthropic = encode_request(&ChatRequest {
        extra_protocol: Some(WireProtocol::Anthropic),
        ..base.clone()
    })
    .unwrap();
    assert_eq!(anthropic["container"], "cntr_1");
    assert_eq!(anthropic["model"], "claude-sonnet-4-5");
    assert_eq!(
        anthropic["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048, "display": "omitted"})
    );
    assert_eq!(
        anthropic["metadata"],
        json!({"user_id": "u", "tenant": "t1"})
    );

    for protocol in [Some(WireProtocol::OpenAi), Some(WireProtocol::Ollama), None] {
        let other = encode_request(&ChatRequest {
            extra_protocol: protocol,
            ..base.clone()
        })
        .unwrap();
        assert!(other.get("container").is_none(), "{protocol:?}");
        assert!(other["thinking"].get("display").is_none(), "{protocol:?}");
        assert_eq!(other["metadata"], json!({"user_id": "u"}));
    }
}
