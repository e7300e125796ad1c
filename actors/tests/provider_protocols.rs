//! Each wire protocol end to end through a provider actor and real loopback HTTP: plain and
//! streamed completions, tool calls, images, thinking and usage, checked on both sides — what the
//! caller got and what the fake upstream received.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use moxxy_actors::provider::{self, ProviderKind};
use moxxy_actors::{
    ContentPart, ImageSource, Message, Reasoning, Role, StopReason, StreamAccumulator, Tool,
    ToolChoice,
};
use moxxy_fake_upstream::{anthropic, ollama, openai, FakeUpstream, Reply};
use serde_json::json;

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a city".into()),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        strict: None,
        extra: Default::default(),
    }
}

fn accumulate(events: &[moxxy_actors::StreamEvent]) -> moxxy_actors::ChatResponse {
    let mut acc = StreamAccumulator::new();
    for e in events {
        acc.push(e);
    }
    acc.finish().unwrap()
}

// ---------------------------------------------------------------- Anthropic

#[actix::test]
async fn anthropic_plain_completion_sends_the_protocol_headers_and_maps_usage() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        anthropic::reply(anthropic::message(
            "Hello there",
            anthropic::Usage::new(10, 5).with_cache(100, 20),
        ))
        .header("request-id", "req_upstream_1"),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;
    let (answer, meta) = provider::complete(&addr, ask("claude-sonnet-4-5", "Hi"))
        .await
        .unwrap();
    assert_eq!(answer.text(), "Hello there");
    assert_eq!(answer.stop_reason, StopReason::EndTurn);
    let usage = answer.usage.unwrap();
    assert_eq!(
        usage.input_tokens, 130,
        "uncached + cache read + cache write"
    );
    assert_eq!(usage.cache_read_tokens, 100);
    assert_eq!(usage.cache_write_tokens, 20);
    assert_eq!(usage.output_tokens, 5);
    assert_eq!(meta.request_id.as_deref(), Some("req_upstream_1"));
    assert_eq!(answer.request_id.as_deref(), Some("req_upstream_1"));

    let sent = &fake.requests()[0];
    assert_eq!(sent.header("x-api-key"), Some(TEST_KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    let body = sent.json();
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["max_tokens"], 256);
    assert_eq!(body["messages"][0]["role"], "user");
    assert_ne!(body["stream"], json!(true));
}

#[actix::test]
async fn anthropic_stream_with_thinking_text_and_tool_call() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        Reply::sse(anthropic::stream_thinking_text_tool("claude-sonnet-4-5")).reply(),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;
    let mut req = ask("claude-sonnet-4-5", "Weather in Paris?");
    req.tools = vec![weather_tool()];
    req.reasoning = Some(Reasoning::Budget { tokens: 2048 });
    req.max_tokens = Some(8192);
    let events = stream_all(&addr, req).await;
    let answer = accumulate(&events);

    assert_eq!(answer.stop_reason, StopReason::ToolUse);
    let (_, name, args) = answer.tool_calls().next().unwrap();
    assert_eq!(name, "get_weather");
    assert_eq!(
        args,
        &json!({"city": "Paris"}),
        "fragments assemble into the JSON sent"
    );
    match &answer.content[0] {
        ContentPart::Thinking { text, signature } => {
            assert!(!text.is_empty());
            assert!(signature.as_deref().is_some_and(|s| !s.is_empty()));
        }
        other => panic!("thinking first, got {other:?}"),
    }
    assert!(answer.usage.is_some());

    let body = fake.requests()[0].json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["thinking"]["type"], "enabled");
    assert_eq!(body["thinking"]["budget_tokens"], 2048);
    assert_eq!(body["tools"][0]["name"], "get_weather");
    assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
}

#[actix::test]
async fn anthropic_tool_result_turn_replays_thinking_and_pairs_the_result() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        anthropic::reply(anthropic::message(
            "It is sunny.",
            anthropic::Usage::new(50, 4),
        )),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;
    let mut req = ask("claude-sonnet-4-5", "Weather in Paris?");
    req.tools = vec![weather_tool()];
    req.tool_choice = Some(ToolChoice::Auto);
    req.messages.push(Message {
        role: Role::Assistant,
        content: vec![
            ContentPart::Thinking {
                text: "Call the tool.".into(),
                signature: Some("sig-EqQBCkYIBxgCKkB==".into()),
            },
            ContentPart::ToolCall {
                id: "toolu_01".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
                extra: Default::default(),
            },
        ],
        name: None,
        extra: Default::default(),
    });
    req.messages.push(Message {
        role: Role::Tool,
        content: vec![ContentPart::ToolResult {
            tool_call_id: "toolu_01".into(),
            name: Some("get_weather".into()),
            content: vec![ContentPart::text("18°C, clear")],
            is_error: false,
        }],
        name: None,
        extra: Default::default(),
    });
    let (answer, _) = provider::complete(&addr, req).await.unwrap();
    assert_eq!(answer.text(), "It is sunny.");

    let body = fake.requests()[0].json();
    let assistant = &body["messages"][1];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["content"][0]["type"], "thinking");
    assert_eq!(
        assistant["content"][0]["signature"], "sig-EqQBCkYIBxgCKkB==",
        "the signature is replayed byte for byte"
    );
    assert_eq!(assistant["content"][1]["type"], "tool_use");
    assert_eq!(assistant["content"][1]["input"], json!({"city": "Paris"}));
    let result_turn = &body["messages"][2];
    assert_eq!(result_turn["role"], "user");
    assert_eq!(result_turn["content"][0]["type"], "tool_result");
    assert_eq!(result_turn["content"][0]["tool_use_id"], "toolu_01");
}

#[actix::test]
async fn anthropic_image_is_sent_as_a_base64_block() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        anthropic::reply(anthropic::message("A cat.", anthropic::Usage::new(900, 3))),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;
    let mut req = ask("claude-sonnet-4-5", "What is this?");
    req.messages[0].content.push(ContentPart::Image {
        source: ImageSource::from_url("data:image/png;base64,iVBORw0KGgo="),
        detail: None,
        extra: Default::default(),
    });
    let (answer, _) = provider::complete(&addr, req).await.unwrap();
    assert_eq!(answer.text(), "A cat.");
    let block = &fake.requests()[0].json()["messages"][0]["content"][1];
    assert_eq!(block["type"], "image");
    assert_eq!(block["source"]["type"], "base64");
    assert_eq!(block["source"]["media_type"], "image/png");
    assert_eq!(block["source"]["data"], "iVBORw0KGgo=");
}

// ---------------------------------------------------------------- OpenAI

#[actix::test]
async fn openai_plain_completion_uses_bearer_auth_and_maps_cached_usage() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        openai::reply(openai::completion(
            "Hi!",
            openai::Usage::new(82, 17).with_cached(64).with_reasoning(5),
        ))
        .header("x-request-id", "req_oa_1"),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let (answer, meta) = provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap();
    assert_eq!(answer.text(), "Hi!");
    let usage = answer.usage.unwrap();
    assert_eq!(
        usage.input_tokens, 82,
        "prompt_tokens already includes cached"
    );
    assert_eq!(usage.cache_read_tokens, 64);
    assert_eq!(usage.output_tokens, 17);
    assert_eq!(usage.reasoning_tokens, 5);
    assert_eq!(meta.request_id.as_deref(), Some("req_oa_1"));
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {TEST_KEY}").as_str())
    );
    assert_eq!(sent.json()["messages"][0]["content"], "Hi");
}

#[actix::test]
async fn openai_stream_asks_for_usage_and_assembles_parallel_tool_calls() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        Reply::sse(openai::stream_parallel_tool_calls("gpt-4.1")).reply(),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let mut req = ask("gpt-4.1", "Weather in Paris and Tokyo?");
    req.tools = vec![weather_tool()];
    req.stream = true;
    let events = stream_all(&addr, req).await;
    let answer = accumulate(&events);
    assert_eq!(answer.stop_reason, StopReason::ToolUse);
    let calls: Vec<_> = answer.tool_calls().collect();
    assert_eq!(calls.len(), 2, "two calls, never glued together: {calls:?}");
    for (_, name, args) in &calls {
        assert_eq!(*name, "get_weather");
        assert!(args.is_object(), "arguments parse as JSON: {args}");
    }
    assert_ne!(calls[0].2, calls[1].2);

    let body = fake.requests()[0].json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
}

#[actix::test]
async fn openai_stream_text_with_usage_chunk() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        Reply::sse(openai::stream_text(
            "gpt-4.1",
            &["Hel", "lo", " world"],
            Some(openai::Usage::new(9, 3)),
        ))
        .reply(),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let events = stream_all(&addr, ask("gpt-4.1", "Hi")).await;
    let answer = accumulate(&events);
    assert_eq!(answer.text(), "Hello world");
    assert_eq!(answer.stop_reason, StopReason::EndTurn);
    assert_eq!(answer.usage.unwrap().input_tokens, 9);
    assert_eq!(answer.usage.unwrap().output_tokens, 3);
}

#[actix::test]
async fn openai_reasoning_models_get_max_completion_tokens_and_no_temperature() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default(
        "/v1/chat/completions",
        openai::reply(openai::completion("ok", openai::Usage::new(1, 1))),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let mut req = ask("o3", "Think");
    req.temperature = Some(0.7);
    req.messages
        .insert(0, Message::text(Role::System, "Be brief."));
    provider::complete(&addr, req).await.unwrap();
    let body = fake.requests()[0].json();
    assert_eq!(body["max_completion_tokens"], 256);
    assert!(body.get("max_tokens").is_none());
    assert!(body.get("temperature").is_none());
    assert_eq!(body["messages"][0]["role"], "developer");
}

#[actix::test]
async fn deepseek_reasoning_content_becomes_thinking() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        Reply::sse(openai::stream_reasoning_content(
            "deepseek-v4-pro",
            &["Let me ", "think."],
            &["The answer ", "is 4."],
        ))
        .reply(),
    );
    let mut cfg = config(&fake, ProviderKind::OpenAiCompatible);
    cfg.id = "deepseek".into();
    let addr = start(cfg).await;
    let events = stream_all(&addr, ask("deepseek-v4-pro", "2+2?")).await;
    let answer = accumulate(&events);
    match &answer.content[0] {
        ContentPart::Thinking { text, signature } => {
            assert_eq!(text, "Let me think.");
            assert_eq!(signature, &None);
        }
        other => panic!("thinking first, got {other:?}"),
    }
    assert_eq!(answer.text(), "The answer is 4.");
}

#[actix::test]
async fn openai_image_is_sent_as_an_image_url_part() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        openai::reply(openai::completion("A cat.", openai::Usage::new(900, 3))),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let mut req = ask("gpt-4.1", "What is this?");
    req.messages[0].content.push(ContentPart::Image {
        source: ImageSource::Base64 {
            media_type: "image/png".into(),
            data: "iVBORw0KGgo=".into(),
        },
        detail: Some("low".into()),
        extra: Default::default(),
    });
    provider::complete(&addr, req).await.unwrap();
    let part = &fake.requests()[0].json()["messages"][0]["content"][1];
    assert_eq!(part["type"], "image_url");
    assert_eq!(
        part["image_url"]["url"],
        "data:image/png;base64,iVBORw0KGgo="
    );
    assert_eq!(part["image_url"]["detail"], "low");
}

// ---------------------------------------------------------------- Ollama

#[actix::test]
async fn ollama_plain_completion_needs_no_key_and_maps_usage() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/api/chat",
        Reply::json(200, ollama::chat("Bonjour", ollama::Usage::new(26, 282))),
    );
    let addr = start(config(&fake, ProviderKind::Ollama)).await;
    let (answer, _) = provider::complete(&addr, ask("llama3.2", "Hi"))
        .await
        .unwrap();
    assert_eq!(answer.text(), "Bonjour");
    let usage = answer.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (26, 282));
    let sent = &fake.requests()[0];
    assert_eq!(sent.header("authorization"), None);
    let body = sent.json();
    assert_eq!(body["stream"], false, "Ollama streams unless told not to");
    assert_eq!(body["model"], "llama3.2:latest");
    assert_eq!(body["options"]["num_predict"], 256);
}

#[actix::test]
async fn ollama_stream_with_thinking_and_a_tool_call() {
    let fake = FakeUpstream::start().await.unwrap();
    let lines = ollama::StreamBuilder::new("qwen3")
        .thinking(&["Need ", "weather."])
        .tool_calls(&[ollama::ToolCall::new(
            "call_1",
            "get_weather",
            json!({"city": "Tokyo"}),
        )])
        .done("stop", ollama::Usage::new(40, 12));
    fake.push("/api/chat", Reply::ndjson(lines).reply());
    let addr = start(config(&fake, ProviderKind::Ollama)).await;
    let mut req = ask("qwen3", "Weather in Tokyo?");
    req.tools = vec![weather_tool()];
    req.reasoning = Some(Reasoning::Adaptive);
    let events = stream_all(&addr, req).await;
    let answer = accumulate(&events);
    assert_eq!(
        answer.stop_reason,
        StopReason::ToolUse,
        "inferred from the calls seen"
    );
    let (id, name, args) = answer.tool_calls().next().unwrap();
    assert_eq!((id, name), ("call_1", "get_weather"));
    assert_eq!(args, &json!({"city": "Tokyo"}));
    assert!(
        matches!(&answer.content[0], ContentPart::Thinking { text, .. } if text == "Need weather.")
    );
    assert_eq!(answer.usage.unwrap().output_tokens, 12);
    let body = fake.requests()[0].json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["think"], true);
    assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
}

#[actix::test]
async fn ollama_image_is_sent_as_raw_base64() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/api/chat",
        Reply::json(200, ollama::chat("A cat.", ollama::Usage::new(1, 1))),
    );
    let addr = start(config(&fake, ProviderKind::Ollama)).await;
    let mut req = ask("llava", "What is this?");
    req.messages[0].content.push(ContentPart::Image {
        source: ImageSource::from_url("data:image/png;base64,iVBORw0KGgo="),
        detail: None,
        extra: Default::default(),
    });
    provider::complete(&addr, req).await.unwrap();
    let message = &fake.requests()[0].json()["messages"][0];
    assert_eq!(message["images"][0], "iVBORw0KGgo=");
    assert_eq!(message["content"], "What is this?");
}
