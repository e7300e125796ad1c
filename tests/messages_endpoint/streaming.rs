//! Streamed answers in Anthropic's event format from every upstream protocol, and a departed
//! client cancelling the upstream request.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use moxxy_fake_upstream::openai::{self, ToolCall};
use moxxy_fake_upstream::{anthropic, ollama, Reply};
use serde_json::{json, Value};

use super::{ask, Answer, Harness, ANTHROPIC_PATH, OLLAMA_PATH, OPENAI_PATH};

/// What every stream must look like to an Anthropic SDK: SSE headers, `message_start` first with
/// the model the client sent, each `event:` name equal to its data's `type`, blocks opened and
/// closed in order, one `message_delta`, and `message_stop` last. Returns the events' data.
fn assert_anthropic_stream(answer: &Answer, model: &str) -> Vec<Value> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    assert_eq!(answer.header("cache-control"), Some("no-cache"));
    let id = answer.header("x-request-id").unwrap();
    assert_eq!(answer.header("request-id"), Some(id));
    let events = answer.events();
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str(), "{data}");
    }
    let data: Vec<Value> = events.into_iter().map(|(_, d)| d).collect();
    let kinds: Vec<&str> = data.iter().map(|d| d["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"message_start"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"message_stop"), "{kinds:?}");
    assert_eq!(kinds[kinds.len() - 2], "message_delta", "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "message_delta").count(), 1);
    let start = &data[0]["message"];
    assert_eq!(start["model"], model);
    assert_eq!(start["role"], "assistant");
    assert!(start["id"].as_str().unwrap().starts_with("msg_"));
    // Blocks: each index opened once, in order, and closed before the next opens.
    let mut open: Option<u64> = None;
    let mut next = 0;
    for d in &data {
        match d["type"].as_str().unwrap() {
            "content_block_start" => {
                assert_eq!(open, None, "{d}");
                assert_eq!(d["index"], next);
                open = Some(next);
                next += 1;
            }
            "content_block_delta" => assert_eq!(d["index"].as_u64(), open, "{d}"),
            "content_block_stop" => {
                assert_eq!(d["index"].as_u64(), open, "{d}");
                open = None;
            }
            _ => {}
        }
    }
    assert_eq!(open, None);
    data
}

/// The text deltas, concatenated.
fn text(data: &[Value]) -> String {
    data.iter()
        .filter_map(|d| d["delta"]["text"].as_str())
        .collect()
}

fn message_delta(data: &[Value]) -> &Value {
    &data[data.len() - 2]
}

#[actix_web::test]
async fn an_anthropic_stream_keeps_its_events() {
    let h = Harness::new().await;
    h.fake.push(
        ANTHROPIC_PATH,
        Reply::sse(anthropic::stream_text(anthropic::MODEL, &["Bon", "jour"])),
    );

    let answer = h.messages(ask("sonnet", true)).await;

    let data = assert_anthropic_stream(&answer, "sonnet");
    assert_eq!(text(&data), "Bonjour");
    assert_eq!(data[0]["message"]["usage"]["input_tokens"], 12);
    let delta = message_delta(&data);
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 2);
    assert_eq!(h.sent(ANTHROPIC_PATH)[0].json()["stream"], true);
}

#[actix_web::test]
async fn an_anthropic_stream_with_thinking_and_a_tool_keeps_the_signature() {
    let h = Harness::new().await;
    let stream = anthropic::stream_thinking_text_tool(anthropic::MODEL);
    h.fake.push(ANTHROPIC_PATH, Reply::sse(stream));

    let answer = h.messages(ask("anthropic/claude-sonnet-4-5", true)).await;

    let data = assert_anthropic_stream(&answer, "anthropic/claude-sonnet-4-5");
    let starts: Vec<&Value> = data
        .iter()
        .filter(|d| d["type"] == "content_block_start")
        .map(|d| &d["content_block"])
        .collect();
    let kinds: Vec<&str> = starts.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["thinking", "text", "tool_use"]);
    assert_eq!(starts[2]["id"], "toolu_01T1");
    assert_eq!(starts[2]["name"], "get_weather");
    let signature: String = data
        .iter()
        .filter_map(|d| d["delta"]["signature"].as_str())
        .collect();
    assert_eq!(signature, "EqQBCkYIBxgCKkB");
    let input: String = data
        .iter()
        .filter_map(|d| d["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(message_delta(&data)["delta"]["stop_reason"], "tool_use");
}

#[actix_web::test]
async fn an_openai_stream_becomes_anthropic_events() {
    let h = Harness::new().await;
    let stream = openai::stream_text(
        openai::MODEL,
        &["Hel", "lo"],
        Some(openai::Usage::new(9, 2)),
    );
    h.fake.push(OPENAI_PATH, Reply::sse(stream));

    let answer = h.messages(ask("openai/gpt-4.1", true)).await;

    let data = assert_anthropic_stream(&answer, "openai/gpt-4.1");
    assert_eq!(text(&data), "Hello");
    let delta = message_delta(&data);
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 2);
    assert_eq!(delta["usage"]["input_tokens"], 9);
    let sent = h.sent(OPENAI_PATH)[0].json();
    assert_eq!(sent["stream"], true);
    // Anthropic streams always report usage, so Moxxy asks OpenAI for it.
    assert_eq!(sent["stream_options"]["include_usage"], true);
}

#[actix_web::test]
async fn openai_streamed_tool_calls_become_tool_use_blocks() {
    let h = Harness::new().await;
    let stream = openai::stream_parallel_tool_calls(openai::MODEL);
    h.fake.push(OPENAI_PATH, Reply::sse(stream));

    let answer = h.messages(ask("openai/gpt-4.1", true)).await;

    let data = assert_anthropic_stream(&answer, "openai/gpt-4.1");
    let mut calls: Vec<(String, String)> = Vec::new();
    for d in &data {
        if d["type"] == "content_block_start" {
            let block = &d["content_block"];
            assert_eq!(block["type"], "tool_use", "{d}");
            assert_eq!(block["input"], json!({}));
            calls.push((block["id"].as_str().unwrap().to_string(), String::new()));
        }
        if let (Some(piece), Some(last)) = (d["delta"]["partial_json"].as_str(), calls.last_mut()) {
            last.1.push_str(piece);
        }
    }
    let expected = [
        ToolCall::new("call_7Yq", "get_weather", r#"{"city":"Paris"}"#),
        ToolCall::new("call_8Zr", "get_weather", r#"{"city":"Tokyo"}"#),
    ];
    assert_eq!(calls.len(), expected.len(), "{calls:?}");
    assert_eq!(calls[0].0, "call_7Yq");
    assert_eq!(calls[1].0, "call_8Zr");
    let inputs: Vec<Value> = calls
        .iter()
        .map(|c| serde_json::from_str(&c.1).unwrap())
        .collect();
    assert_eq!(inputs, [json!({"city": "Paris"}), json!({"city": "Tokyo"})]);
    assert_eq!(message_delta(&data)["delta"]["stop_reason"], "tool_use");
}

#[actix_web::test]
async fn an_ollama_stream_becomes_anthropic_events() {
    let h = Harness::new().await;
    let stream = ollama::stream_text("llama3.2:latest", &["Lla", "ma"]);
    h.fake.push(OLLAMA_PATH, Reply::ndjson(stream));

    let answer = h.messages(ask("ollama/llama3.2", true)).await;

    let data = assert_anthropic_stream(&answer, "ollama/llama3.2");
    assert_eq!(text(&data), "Llama");
    assert_eq!(message_delta(&data)["delta"]["stop_reason"], "end_turn");
    assert_eq!(h.sent(OLLAMA_PATH)[0].json()["model"], "llama3.2:latest");
}

#[actix_web::test]
async fn an_error_inside_a_stream_ends_it_with_an_error_event() {
    let h = Harness::new().await;
    let stream = anthropic::StreamBuilder::new(anthropic::MODEL, anthropic::Usage::new(12, 1))
        .text(&["Par"])
        .fail("overloaded_error", "Overloaded");
    h.fake.push(ANTHROPIC_PATH, Reply::sse(stream));

    let answer = h.messages(ask("sonnet", true)).await;

    assert_eq!(answer.status, StatusCode::OK);
    let events = answer.events();
    let (name, last) = events.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(last["type"], "error");
    assert_eq!(last["error"]["type"], "overloaded_error");
    assert!(events.iter().all(|(n, _)| n != "message_stop"));
}

#[actix_web::test]
async fn a_departed_client_cancels_the_upstream_stream() {
    let h = Harness::new().await;
    let pieces: Vec<String> = (0..100).map(|i| format!("w{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    // 100 pieces 40 ms apart: four seconds of stream.
    let paced = Reply::sse(anthropic::stream_text(anthropic::MODEL, &pieces))
        .pause(Duration::from_millis(40));
    h.fake.push(ANTHROPIC_PATH, paced);

    let app = actix_web::test::init_service(
        actix_web::App::new()
            .app_data(actix_web::web::Data::new(h.state.clone()))
            .configure(moxxy::api::configure),
    )
    .await;
    let req = actix_web::test::TestRequest::post()
        .uri("/v1/messages")
        .insert_header(("x-api-key", h.token.clone()))
        .set_payload(ask("sonnet", true).to_string())
        .to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = Box::pin(res.into_body());
    let first = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await;
    let first = first.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with("event: message_start"));
    drop(body);

    assert!(
        h.fake.wait_aborted(1, Duration::from_secs(4)).await,
        "the upstream stream was not cancelled"
    );
}
