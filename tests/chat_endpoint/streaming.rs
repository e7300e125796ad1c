//! Streamed completions: OpenAI's chunk format from every upstream, usage on request, tool calls,
//! and a departed client cancelling the upstream request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{web, HttpServer};
use moxxy_fake_upstream::{anthropic, ollama, openai, Reply};
use serde_json::{json, Value};

use super::{ask, sse_data, Answer, Harness, ANTHROPIC_PATH, OLLAMA_PATH, OPENAI_PATH};

/// What every translated stream must look like to an OpenAI SDK: SSE headers, the first chunk
/// with the assistant role, every chunk naming the model the client sent, and `[DONE]` last.
fn assert_openai_stream(answer: &Answer, model: &str) -> Vec<Value> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    assert_eq!(answer.header("cache-control"), Some("no-cache"));
    assert_eq!(answer.header("x-accel-buffering"), Some("no"));
    let data = answer.sse_data();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks = answer.chunks();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], model);
    }
    chunks
}

/// The streamed text, concatenated.
fn content(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

fn finish_reason(chunks: &[Value]) -> Option<String> {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .map(str::to_string)
        .next_back()
}

fn with_usage(mut body: Value) -> Value {
    body["stream_options"] = json!({"include_usage": true});
    body
}

#[actix_web::test]
async fn openai_stream_without_usage() {
    let h = Harness::new().await;
    let stream = openai::stream_text(
        openai::MODEL,
        &["Hel", "lo"],
        Some(openai::Usage::new(9, 2)),
    );
    h.fake.push(OPENAI_PATH, Reply::sse(stream));

    let answer = h.chat(ask("openai/gpt-4.1", true)).await;

    let chunks = assert_openai_stream(&answer, "openai/gpt-4.1");
    assert_eq!(content(&chunks), "Hello");
    assert_eq!(finish_reason(&chunks).as_deref(), Some("stop"));
    // Not asked for: no usage anywhere.
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "{chunks:?}"
    );
    assert_eq!(h.sent(OPENAI_PATH)[0]["model"], "gpt-4.1");
    assert_eq!(h.sent(OPENAI_PATH)[0]["stream"], true);
}

#[actix_web::test]
async fn openai_stream_with_usage_ends_with_the_usage_chunk() {
    let h = Harness::new().await;
    let stream = openai::stream_text(openai::MODEL, &["Hi"], Some(openai::Usage::new(9, 1)));
    h.fake.push(OPENAI_PATH, Reply::sse(stream));

    let answer = h.chat(with_usage(ask("openai/gpt-4.1", true))).await;

    let chunks = assert_openai_stream(&answer, "openai/gpt-4.1");
    let (last, rest) = chunks.split_last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 9);
    assert_eq!(last["usage"]["completion_tokens"], 1);
    assert!(rest.iter().all(|c| c["usage"].is_null()), "{rest:?}");
}

#[actix_web::test]
async fn anthropic_stream_is_translated_to_openai_chunks() {
    let h = Harness::new().await;
    let stream = anthropic::stream_text(anthropic::MODEL, &["Bon", "jour"]);
    h.fake.push(ANTHROPIC_PATH, Reply::sse(stream));

    let answer = h.chat(with_usage(ask("sonnet", true))).await;

    let chunks = assert_openai_stream(&answer, "sonnet");
    assert_eq!(content(&chunks), "Bonjour");
    assert_eq!(finish_reason(&chunks).as_deref(), Some("stop"));
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["prompt_tokens"], 12);
    assert_eq!(usage["completion_tokens"], 2);
    assert_eq!(h.sent(ANTHROPIC_PATH)[0]["stream"], true);
}

#[actix_web::test]
async fn ollama_stream_is_translated_to_openai_chunks() {
    let h = Harness::new().await;
    let stream = ollama::stream_text("llama3.2:latest", &["Lla", "ma"]);
    h.fake.push(OLLAMA_PATH, Reply::ndjson(stream));

    let answer = h.chat(ask("local", true)).await;

    let chunks = assert_openai_stream(&answer, "local");
    assert_eq!(content(&chunks), "Llama");
    assert_eq!(finish_reason(&chunks).as_deref(), Some("stop"));
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(h.sent(OLLAMA_PATH)[0]["model"], "llama3.2:latest");
}

#[actix_web::test]
async fn anthropic_tool_use_streams_as_openai_tool_calls() {
    let h = Harness::new().await;
    let stream = anthropic::stream_thinking_text_tool(anthropic::MODEL);
    h.fake.push(ANTHROPIC_PATH, Reply::sse(stream));

    let answer = h.chat(ask("anthropic/claude-sonnet-4-5", true)).await;

    let chunks = assert_openai_stream(&answer, "anthropic/claude-sonnet-4-5");
    assert_eq!(content(&chunks), "Checking Paris.");
    assert_eq!(finish_reason(&chunks).as_deref(), Some("tool_calls"));
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .collect();
    assert!(calls.iter().all(|c| c["index"] == 0), "{calls:?}");
    let first = calls[0];
    assert_eq!(first["id"], "toolu_01T1");
    assert_eq!(first["type"], "function");
    assert_eq!(first["function"]["name"], "get_weather");
    let arguments: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    let arguments: Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(arguments, json!({"city": "Paris"}));
}

/// Serves the app on a real socket (a disconnect needs one); answers its address and handle.
///
/// As the server must: a client's EOF ends the connection (no HTTP/1 half-close), so a client
/// that leaves while the upstream is silent cancels it at once, not at the next write.
fn serve(h: &Harness) -> (SocketAddr, ServerHandle) {
    let state = h.state.clone();
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(web::Data::new(state.clone()))
            .configure(moxxy::api::configure)
    })
    .workers(1)
    .h1_allow_half_closed(false)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

#[actix_web::test]
async fn a_client_leaving_a_plain_request_abandons_the_upstream_request() {
    let h = Harness::new().await;
    let message = anthropic::message("too late", anthropic::Usage::new(1, 2));
    h.fake.push(
        ANTHROPIC_PATH,
        anthropic::reply(message).delayed(Duration::from_secs(5)),
    );
    let (addr, server) = serve(&h);

    let sent = reqwest::Client::new()
        .post(format!("http://{addr}/v1/chat/completions"))
        .bearer_auth(&h.token)
        .json(&ask("anthropic/claude-sonnet-4-5", false))
        .timeout(Duration::from_millis(300))
        .send()
        .await;

    assert!(sent.unwrap_err().is_timeout());
    let abandoned = h
        .fake
        .wait_for(Duration::from_secs(3), |f| f.abandoned_replies() >= 1)
        .await;
    assert!(abandoned, "the upstream request was not cancelled");
    server.stop(false).await;
}

/// Starts a streamed request and reads until `until` has arrived; answers the text so far.
async fn read_until(addr: SocketAddr, token: &str, until: &str) -> (reqwest::Response, String) {
    let mut response = reqwest::Client::new()
        .post(format!("http://{addr}/v1/chat/completions"))
        .bearer_auth(token)
        .json(&ask("anthropic/claude-sonnet-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    while !seen.contains(until) {
        let chunk = response.chunk().await.unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    (response, seen)
}

fn words(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("w{i} ")).collect()
}

#[actix_web::test]
async fn events_reach_the_client_as_they_arrive_and_a_disconnect_aborts_the_upstream() {
    let h = Harness::new().await;
    let words = words(200);
    let pieces: Vec<&str> = words.iter().map(String::as_str).collect();
    // 200 pieces 25 ms apart: five seconds of stream.
    let paced = Reply::sse(anthropic::stream_text(anthropic::MODEL, &pieces))
        .pause(Duration::from_millis(25));
    h.fake.push(ANTHROPIC_PATH, paced);
    let (addr, server) = serve(&h);

    let started = Instant::now();
    let (response, seen) = read_until(addr, &h.token, "w1 ").await;

    // Streamed, not buffered: the first words arrive long before the upstream is done.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let first: Value = serde_json::from_str(&sse_data(&seen)[0]).unwrap();
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    drop(response);
    assert!(
        h.fake.wait_aborted(1, Duration::from_secs(4)).await,
        "the upstream stream was not cancelled"
    );
    server.stop(false).await;
}

#[actix_web::test]
async fn a_disconnect_while_the_upstream_is_silent_aborts_it_too() {
    let h = Harness::new().await;
    let words = words(20);
    let pieces: Vec<&str> = words.iter().map(String::as_str).collect();
    // The upstream sends two words, then nothing (a long think), and never ends.
    let stalled = Reply::sse(anthropic::stream_text(anthropic::MODEL, &pieces)).stall_after(5);
    h.fake.push(ANTHROPIC_PATH, stalled);
    let (addr, server) = serve(&h);

    let (response, _) = read_until(addr, &h.token, "w1 ").await;
    drop(response);

    assert!(
        h.fake.wait_aborted(1, Duration::from_secs(4)).await,
        "the upstream stream was not cancelled"
    );
    server.stop(false).await;
}
