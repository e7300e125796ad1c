//! A client's request body → the unified request.

use moxxy_actors::provider::openai::{decode_request, encode_request, Dialect};
use moxxy_actors::{
    ContentPart, ErrorKind, ImageSource, Reasoning, ResponseFormat, Role, ToolChoice, WireProtocol,
};
use serde_json::json;

#[test]
fn a_full_request_is_decoded() {
    let body = json!({
        "model": "gpt-4.1",
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO", "detail": "high"}}
            ]},
            {"role": "assistant", "content": null, "reasoning_content": "Call it.",
             "tool_calls": [{"id": "call_1", "type": "function",
                             "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                             "extra_content": {"google": {"thought_signature": "sig"}}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18°C"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
        "tool_choice": "required",
        "max_completion_tokens": 100,
        "max_tokens": 5,
        "stop": "END",
        "stream": true,
        "stream_options": {"include_usage": true},
        "reasoning_effort": "low",
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": true}},
        "user": "u-1",
        "seed": 7,
        "n": 1,
        "logprobs": false,
        "service_tier": "flex",
        "metadata": {"k": "v"}
    });
    let req = decode_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(req.model, "gpt-4.1");
    assert_eq!(req.messages[0].role, Role::System);
    assert_eq!(
        req.messages[1].content[1],
        ContentPart::Image {
            source: ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "iVBO".into()
            },
            detail: Some("high".into()),
            extra: Default::default(),
        }
    );
    let assistant = &req.messages[2].content;
    assert!(matches!(&assistant[0], ContentPart::Thinking { text, .. } if text == "Call it."));
    let ContentPart::ToolCall {
        arguments, extra, ..
    } = &assistant[1]
    else {
        panic!("{assistant:?}")
    };
    assert_eq!(*arguments, json!({"city": "Paris"}));
    assert_eq!(extra["extra_content"]["google"]["thought_signature"], "sig");
    assert_eq!(req.messages[3].role, Role::Tool);
    assert_eq!(
        req.messages[3].content[0],
        ContentPart::ToolResult {
            tool_call_id: "call_1".into(),
            name: Some("get_weather".into()),
            content: vec![ContentPart::text("18°C")],
            is_error: false,
        }
    );
    assert_eq!(req.tool_choice, Some(ToolChoice::Required));
    assert_eq!(req.max_tokens, Some(100), "max_completion_tokens wins");
    assert_eq!(req.stop, vec!["END".to_string()]);
    assert!(req.stream && req.include_usage);
    assert_eq!(
        req.reasoning,
        Some(Reasoning::Effort {
            level: "low".into()
        })
    );
    assert!(matches!(
        req.response_format,
        Some(ResponseFormat::JsonSchema {
            strict: Some(true),
            ..
        })
    ));
    assert_eq!(req.user.as_deref(), Some("u-1"));
    assert_eq!(req.extra_protocol, Some(WireProtocol::OpenAi));
    let mut keys: Vec<&str> = req.extra.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["logprobs", "metadata", "n", "seed", "service_tier"]);

    // Sent on to an OpenAI upstream, the pass-through fields and the signature survive.
    let upstream = encode_request(&req, Dialect::OpenAi).unwrap();
    assert_eq!(upstream["service_tier"], "flex");
    assert_eq!(
        upstream["messages"][2]["tool_calls"][0]["extra_content"]["google"]["thought_signature"],
        "sig"
    );
}

fn error_for(body: serde_json::Value) -> (String, Option<String>) {
    let e = decode_request(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    (e.message, e.param)
}

#[test]
fn errors_name_the_field_and_say_what_to_send() {
    let (message, param) = error_for(json!({"model": "m", "messages": [
        {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "robot", "content": "c"}
    ]}));
    assert_eq!(
        message,
        "messages[2].role: expected one of system, developer, user, assistant, tool"
    );
    assert_eq!(param.as_deref(), Some("messages[2].role"));

    let (message, param) = error_for(json!({"messages": [{"role": "user", "content": "a"}]}));
    assert_eq!(param.as_deref(), Some("model"));
    assert!(message.starts_with("model:"), "{message}");

    let (_, param) = error_for(json!({"model": "m", "messages": []}));
    assert_eq!(param.as_deref(), Some("messages"));

    let (message, param) = error_for(
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}),
    );
    assert_eq!(param.as_deref(), Some("messages[0].content[0].type"));
    assert!(
        message.contains("'input_audio'") && message.contains("text, image_url"),
        "{message}"
    );

    let (_, param) =
        error_for(json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}));
    assert_eq!(param.as_deref(), Some("messages[0].tool_call_id"));

    let (_, param) = error_for(json!({"model": "m", "messages": [{"role": "assistant",
        "tool_calls": [{"id": "c", "type": "function", "function": {"arguments": "{}"}}]}]}));
    assert_eq!(
        param.as_deref(),
        Some("messages[0].tool_calls[0].function.name")
    );

    let (_, param) = error_for(
        json!({"model": "m", "messages": [{"role": "user", "content": "a"}], "max_tokens": -1}),
    );
    assert_eq!(param.as_deref(), Some("max_tokens"));

    let (_, param) = error_for(
        json!({"model": "m", "messages": [{"role": "user", "content": "a"}], "tool_choice": "sometimes"}),
    );
    assert_eq!(param.as_deref(), Some("tool_choice"));

    let (_, param) = error_for(
        json!({"model": "m", "messages": [{"role": "user", "content": "a"}], "stop": ["a", 1]}),
    );
    assert_eq!(param.as_deref(), Some("stop[1]"));

    let e = decode_request(b"{not json").unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.starts_with("the body is not valid JSON"));
}

#[test]
fn nulls_are_absent_and_reasoning_none_disables() {
    let body = json!({"model": "m", "messages": [{"role": "system", "content": "s", "name": null, "audio": null},
                                                 {"role": "user", "content": ""}],
                      "temperature": null, "stop": null, "reasoning_effort": "none", "seed": null});
    let req = decode_request(body.to_string().as_bytes()).unwrap();
    assert!(
        req.extra.is_empty(),
        "null pass-through fields are absent: {:?}",
        req.extra
    );
    assert!(req.messages[0].extra.is_empty());
    let upstream = encode_request(&req, Dialect::DeepSeek).unwrap();
    assert_eq!(
        upstream["messages"][1],
        json!({"role": "user", "content": ""}),
        "an empty turn is kept"
    );
    assert_eq!(req.temperature, None);
    assert!(req.stop.is_empty());
    assert_eq!(req.reasoning, Some(Reasoning::Disabled));
    assert!(!req.stream && !req.include_usage);
}
