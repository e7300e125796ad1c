//! Tool calls go back to the caller, the caller's results come in as the next message, and the
//! history replays both — and Anthropic's signed thinking — in the form each protocol wants.

use moxxy_fake_upstream::openai::ToolCall;
use moxxy_fake_upstream::{anthropic, openai};
use serde_json::{json, Value};

use super::{requests, start, turn};

fn weather_tool() -> Value {
    json!({
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    })
}

fn tool_result(id: &str) -> Value {
    json!([{"type": "tool_result", "tool_call_id": id, "content": "18 C and sunny"}])
}

#[tokio::test]
async fn anthropic_tool_call_then_result_with_persona_tools() {
    let (server, admin) = start(None).await;
    server
        .api(&admin)
        .post(
            "/v1/agents",
            json!({"name": "forecaster", "model": "anthropic/claude-sonnet-4-5", "tools": [weather_tool()]}),
        )
        .await
        .expect(201);
    server.fake().push(
        "/v1/messages",
        anthropic::reply(anthropic::tool_use_message(
            "Let me check.",
            "toolu_01A",
            "get_weather",
            json!({"city": "Paris"}),
            anthropic::Usage::new(30, 12),
        )),
    );
    let first = turn(
        &server,
        &admin,
        "forecaster",
        json!("Weather in Paris?"),
        None,
    )
    .await;
    assert_eq!(first["stop_reason"], "tool_use");
    assert_eq!(first["message"]["content"], "Let me check.");
    assert_eq!(
        first["message"]["tool_calls"],
        json!([{"id": "toolu_01A", "name": "get_weather", "arguments": {"city": "Paris"}}])
    );
    let conversation = first["conversation_id"].as_str().unwrap();
    let sent = requests(server.fake(), "/v1/messages");
    assert_eq!(sent[0].json()["tools"][0]["name"], "get_weather");
    assert_eq!(
        sent[0].json()["tools"][0]["input_schema"]["required"],
        json!(["city"])
    );

    let second = turn(
        &server,
        &admin,
        "forecaster",
        tool_result("toolu_01A"),
        Some(conversation),
    )
    .await;
    assert_eq!(second["stop_reason"], "end_turn");
    let body = requests(server.fake(), "/v1/messages")[1].json();
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{body}");
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(
        messages[1]["content"][1],
        json!({"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}})
    );
    assert_eq!(messages[2]["role"], "user");
    let result = &messages[2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], "toolu_01A");
    assert!(result.to_string().contains("18 C and sunny"), "{result}");
    assert_eq!(body["tools"][0]["name"], "get_weather", "tools sent again");

    // The stored user message shows its part.
    let stored = server
        .api(&admin)
        .get(&format!(
            "/v1/agents/forecaster/conversations/{conversation}"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(
        stored["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_call_id": "toolu_01A", "content": "18 C and sunny", "is_error": false}])
    );
}

#[tokio::test]
async fn openai_tool_call_then_result() {
    let (server, admin) = start(None).await;
    server
        .api(&admin)
        .post(
            "/v1/agents",
            json!({"name": "forecaster", "model": "openai/gpt-4.1"}),
        )
        .await
        .expect(201);
    server.fake().push(
        "/v1/chat/completions",
        openai::reply(openai::tool_calls_completion(
            &[ToolCall::new(
                "call_9",
                "get_weather",
                r#"{"city":"Paris"}"#,
            )],
            openai::Usage::new(30, 12),
        )),
    );
    let body = json!({"content": "Weather in Paris?", "tools": [weather_tool()]});
    let first = server
        .api(&admin)
        .post("/v1/agents/forecaster/messages", body)
        .await
        .expect(200)
        .json();
    assert_eq!(first["stop_reason"], "tool_use");
    assert_eq!(
        first["message"]["tool_calls"],
        json!([{"id": "call_9", "name": "get_weather", "arguments": {"city": "Paris"}}])
    );
    let conversation = first["conversation_id"].as_str().unwrap();
    let sent = requests(server.fake(), "/v1/chat/completions");
    assert_eq!(
        sent[0].json()["tools"][0]["function"]["name"],
        "get_weather"
    );

    let second = server
        .api(&admin)
        .post(
            "/v1/agents/forecaster/messages",
            json!({"content": tool_result("call_9"), "conversation_id": conversation, "tools": [weather_tool()]}),
        )
        .await
        .expect(200)
        .json();
    assert!(second["message"]["content"].as_str().is_some());
    let body = requests(server.fake(), "/v1/chat/completions")[1].json();
    let messages = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool"], "{body}");
    let call = &messages[1]["tool_calls"][0];
    assert_eq!(call["id"], "call_9");
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"city": "Paris"}));
    assert_eq!(messages[2]["tool_call_id"], "call_9");
    assert_eq!(messages[2]["content"], "18 C and sunny");
}

#[tokio::test]
async fn anthropic_thinking_is_replayed_with_its_signature() {
    let (server, admin) = start(None).await;
    server
        .api(&admin)
        .post(
            "/v1/agents",
            json!({"name": "thinker", "model": "anthropic/claude-sonnet-4-5"}),
        )
        .await
        .expect(201);
    let signature = "EqQBCkYIBxgCKkB+/sig==";
    server.fake().push(
        "/v1/messages",
        anthropic::reply(anthropic::thinking_message(
            "Two plus two.",
            signature,
            "ENCRYPTED-BLOB",
            "Four.",
            anthropic::Usage::new(20, 9),
        )),
    );
    let first = turn(&server, &admin, "thinker", json!("2+2?"), None).await;
    assert_eq!(first["message"]["thinking"], "Two plus two.");
    assert_eq!(first["message"]["content"], "Four.");
    let conversation = first["conversation_id"].as_str().unwrap();
    turn(
        &server,
        &admin,
        "thinker",
        json!("And 3+3?"),
        Some(conversation),
    )
    .await;

    let body = requests(server.fake(), "/v1/messages")[1].json();
    let replayed = &body["messages"][1]["content"];
    assert_eq!(
        replayed[0],
        json!({"type": "thinking", "thinking": "Two plus two.", "signature": signature})
    );
    assert_eq!(
        replayed[1],
        json!({"type": "redacted_thinking", "data": "ENCRYPTED-BLOB"})
    );
    assert_eq!(replayed[2]["text"], "Four.");
}
