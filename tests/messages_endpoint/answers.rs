//! Non-streamed answers from every upstream protocol, tool calls, and what reaches Anthropic
//! untouched (cache-control breakpoints, signed thinking).

use actix_web::http::StatusCode;
use moxxy_fake_upstream::openai::{self, ToolCall};
use moxxy_fake_upstream::{anthropic, ollama, Reply};
use serde_json::{json, Value};

use super::{ask, Answer, Harness, ANTHROPIC_PATH, OLLAMA_PATH, OPENAI_PATH};

/// What every answer must look like to an Anthropic SDK, whatever the upstream spoke.
fn assert_message(answer: &Answer, model: &str) -> Value {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let id = answer.header("x-request-id").unwrap();
    assert_eq!(answer.header("request-id"), Some(id));
    let body = answer.json();
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], model);
    assert!(body["id"].as_str().unwrap().starts_with("msg_"), "{body}");
    body
}

#[actix_web::test]
async fn an_anthropic_answer_comes_back_with_the_model_the_client_sent() {
    let h = Harness::new().await;
    let usage = anthropic::Usage::new(21, 4).with_cache(10, 5);
    h.fake.push(
        ANTHROPIC_PATH,
        anthropic::reply(anthropic::message("Bonjour", usage)),
    );

    let answer = h.messages(ask("sonnet", false)).await;

    let body = assert_message(&answer, "sonnet");
    assert_eq!(
        body["content"],
        json!([{"type": "text", "text": "Bonjour"}])
    );
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["usage"]["input_tokens"], 21);
    assert_eq!(body["usage"]["output_tokens"], 4);
    assert_eq!(body["usage"]["cache_read_input_tokens"], 10);
    assert_eq!(body["usage"]["cache_creation_input_tokens"], 5);
    let sent = h.sent(ANTHROPIC_PATH);
    assert_eq!(sent[0].json()["model"], "claude-sonnet-4-5");
    // Our key upstream, never the client's mox_ token.
    assert_eq!(sent[0].header("x-api-key"), Some(super::TEST_KEY));
}

#[actix_web::test]
async fn an_openai_answer_is_translated() {
    let h = Harness::new().await;
    let completion = openai::completion("Hi there", openai::Usage::new(9, 2));
    h.fake.push(OPENAI_PATH, openai::reply(completion));

    let mut request = ask("openai/gpt-4.1", false);
    request["system"] = json!("Be brief.");
    let answer = h.messages(request).await;

    let body = assert_message(&answer, "openai/gpt-4.1");
    assert_eq!(
        body["content"],
        json!([{"type": "text", "text": "Hi there"}])
    );
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["usage"]["input_tokens"], 9);
    assert_eq!(body["usage"]["output_tokens"], 2);
    let sent = h.sent(OPENAI_PATH)[0].json();
    assert_eq!(sent["model"], "gpt-4.1");
    assert_eq!(sent["messages"][0]["content"], "Be brief.");
}

#[actix_web::test]
async fn an_ollama_answer_is_translated() {
    let h = Harness::new().await;
    let chat = ollama::chat("Llama here", ollama::Usage::new(26, 3));
    h.fake.push(OLLAMA_PATH, Reply::json(200, chat));

    let answer = h.messages(ask("ollama/llama3.2", false)).await;

    let body = assert_message(&answer, "ollama/llama3.2");
    assert_eq!(
        body["content"],
        json!([{"type": "text", "text": "Llama here"}])
    );
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["usage"]["input_tokens"], 26);
    assert_eq!(body["usage"]["output_tokens"], 3);
    assert_eq!(h.sent(OLLAMA_PATH)[0].json()["model"], "llama3.2:latest");
}

#[actix_web::test]
async fn openai_tool_calls_become_tool_use_blocks_with_an_input_object() {
    let h = Harness::new().await;
    let calls = [
        ToolCall::new("call_7Yq", "get_weather", r#"{"city":"Paris"}"#),
        ToolCall::new("call_8Zr", "get_weather", r#"{"city":"Tokyo"}"#),
    ];
    let completion = openai::tool_calls_completion(&calls, openai::Usage::new(82, 34));
    h.fake.push(OPENAI_PATH, openai::reply(completion));

    let mut request = ask("openai/gpt-4.1", false);
    request["tools"] = json!([{
        "name": "get_weather",
        "description": "The weather in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }]);
    let answer = h.messages(request).await;

    let body = assert_message(&answer, "openai/gpt-4.1");
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(
        body["content"],
        json!([
            {"type": "tool_use", "id": "call_7Yq", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "call_8Zr", "name": "get_weather", "input": {"city": "Tokyo"}},
        ])
    );
    let sent = h.sent(OPENAI_PATH)[0].json();
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(
        sent["tools"][0]["function"]["parameters"]["properties"]["city"]["type"],
        "string"
    );
}

#[actix_web::test]
async fn tool_results_reach_openai_as_tool_messages() {
    let h = Harness::new().await;
    let completion = openai::completion("It is sunny.", openai::Usage::new(30, 4));
    h.fake.push(OPENAI_PATH, openai::reply(completion));

    let request = json!({
        "model": "openai/gpt-4.1",
        "max_tokens": 64,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_7Yq", "name": "get_weather", "input": {"city": "Paris"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_7Yq", "content": "sunny, 21 C"},
            ]},
        ],
    });
    let answer = h.messages(request).await;

    let body = assert_message(&answer, "openai/gpt-4.1");
    assert_eq!(body["content"][0]["text"], "It is sunny.");
    let sent = h.sent(OPENAI_PATH)[0].json();
    let messages = sent["messages"].as_array().unwrap();
    let call = &messages[1]["tool_calls"][0];
    assert_eq!(call["id"], "call_7Yq");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(messages[2]["role"], "tool");
    assert_eq!(messages[2]["tool_call_id"], "call_7Yq");
}

#[actix_web::test]
async fn cache_control_and_signed_thinking_reach_anthropic_byte_for_byte() {
    let h = Harness::new().await;
    let usage = anthropic::Usage::new(40, 9);
    let reply =
        anthropic::thinking_message("Sum it.", "EqQBCkYIBxgCKkBnew", "cmVkYWN0ZWQ=", "4", usage);
    h.fake.push(ANTHROPIC_PATH, anthropic::reply(reply));

    let system = json!([{
        "type": "text",
        "text": "You are a calculator.",
        "cache_control": {"type": "ephemeral", "ttl": "1h"},
    }]);
    let thinking = json!({
        "type": "thinking",
        "thinking": "Two and two: four.",
        "signature": "EqQBCkYIBxgCKkB+/sig==\u{2028}end",
    });
    let redacted = json!({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"});
    let cached_text = json!({
        "type": "text",
        "text": "And 2 + 2?",
        "cache_control": {"type": "ephemeral"},
    });
    let request = json!({
        "model": "anthropic/claude-sonnet-4-5",
        "max_tokens": 2048,
        "system": system,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "metadata": {"user_id": "u-1"},
        "messages": [
            {"role": "user", "content": "What is 2 + 2?"},
            {"role": "assistant", "content": [thinking, redacted, {"type": "text", "text": "4"}]},
            {"role": "user", "content": [cached_text]},
        ],
    });
    let answer = h.messages(request).await;

    let body = assert_message(&answer, "anthropic/claude-sonnet-4-5");
    assert_eq!(
        body["content"][0],
        json!({"type": "thinking", "thinking": "Sum it.", "signature": "EqQBCkYIBxgCKkBnew"})
    );
    assert_eq!(body["content"][1]["type"], "redacted_thinking");
    assert_eq!(body["content"][2]["text"], "4");

    let recorded = &h.sent(ANTHROPIC_PATH)[0];
    let sent = recorded.json();
    assert_eq!(sent["system"], system);
    assert_eq!(sent["messages"][1]["content"][0], thinking);
    assert_eq!(sent["messages"][1]["content"][1], redacted);
    assert_eq!(sent["messages"][2]["content"][0], cached_text);
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    assert_eq!(sent["metadata"], json!({"user_id": "u-1"}));
    // The signature's exact bytes, as JSON writes them, are in the upstream body.
    let signature_json = serde_json::to_string(&thinking["signature"]).unwrap();
    assert!(
        recorded.text().contains(&signature_json),
        "{}",
        recorded.text()
    );
}

#[actix_web::test]
async fn fields_moxxy_does_not_model_reach_anthropic_unchanged() {
    let h = Harness::new().await;
    let reply = anthropic::message("ok", anthropic::Usage::new(5, 1));
    h.fake.push(ANTHROPIC_PATH, anthropic::reply(reply));

    let mut request = ask("sonnet", false);
    request["service_tier"] = json!("standard_only");
    request["context_management"] = json!({"edits": [{"type": "clear_tool_uses_20250919"}]});
    let answer = h.messages(request).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let sent = h.sent(ANTHROPIC_PATH)[0].json();
    assert_eq!(sent["service_tier"], "standard_only");
    assert_eq!(
        sent["context_management"],
        json!({"edits": [{"type": "clear_tool_uses_20250919"}]})
    );
}
