//! Reshaping streams for decoder tests, and the canned replies of fast mode.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use moxxy_fake_upstream::{anthropic, chunks, Canned, FakeUpstream, Options};
use serde_json::{json, Value};

#[test]
fn split_every_keeps_the_bytes_and_ignores_old_boundaries() {
    let stream = anthropic::stream_text("m", &["é🙂", "x"]);
    let whole = chunks::join(&stream);
    let bytes = chunks::split_every(&stream, 1);
    assert_eq!(bytes.len(), whole.len());
    assert!(bytes.iter().all(|chunk| chunk.len() == 1));
    assert_eq!(chunks::join(&bytes), whole);
    let threes = chunks::split_every(&stream, 3);
    assert!(threes[..threes.len() - 1]
        .iter()
        .all(|chunk| chunk.len() == 3));
    assert_eq!(chunks::join(&threes), whole);
}

#[test]
fn split_at_cuts_anywhere_even_inside_a_character() {
    let stream = vec![Bytes::from("data: é\n\n")];
    let inside = "data: ".len() + 1;
    let parts = chunks::split_at(&stream, inside);
    assert!(std::str::from_utf8(&parts[0]).is_err() || std::str::from_utf8(&parts[1]).is_err());
    assert_eq!(chunks::join(&parts), stream[0]);
    assert_eq!(chunks::split_at(&stream, 999)[1], "");
}

#[test]
fn line_ends_and_comments_can_be_rewritten() {
    let stream = vec![
        Bytes::from("event: a\ndata: 1\n\n"),
        Bytes::from("data: 2\n\n"),
    ];
    assert_eq!(chunks::to_crlf(&stream)[0], "event: a\r\ndata: 1\r\n\r\n");
    assert_eq!(chunks::to_cr(&stream)[1], "data: 2\r\r");
    let with_comments = chunks::interleave(&stream, &chunks::sse_comment("keep-alive"));
    assert_eq!(with_comments.len(), 3);
    assert_eq!(with_comments[1], ": keep-alive\n\n");
}

async fn post(fake: &FakeUpstream, path: &str, body: Value) -> (String, Bytes) {
    let response = common::client()
        .post(format!("{}{path}", fake.url()))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.bytes().await.unwrap())
}

#[tokio::test]
async fn fast_mode_answers_every_protocol_plain_or_streamed() {
    let canned = Canned {
        stream_chunks: 3,
        ..Canned::default()
    };
    let fake = FakeUpstream::start_fast(Options::default(), &canned)
        .await
        .unwrap();

    let (kind, body) = post(&fake, "/v1/messages", json!({"model": "m"})).await;
    assert_eq!(kind, "application/json");
    let message: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(message["content"][0]["text"], "word0 word1 word2 ");

    let (kind, body) = post(&fake, "/v1/messages", json!({"stream": true})).await;
    assert_eq!(kind, "text/event-stream");
    assert!(body.ends_with(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));

    let (kind, body) = post(&fake, "/v1/chat/completions", json!({"stream": true})).await;
    assert_eq!(kind, "text/event-stream");
    assert!(body.ends_with(b"data: [DONE]\n\n"));
    let (_, body) = post(&fake, "/chat/completions", json!({})).await;
    let completion: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        completion["choices"][0]["message"]["content"],
        "word0 word1 word2 "
    );

    let (kind, body) = post(&fake, "/api/chat", json!({"model": "llama3.2"})).await;
    assert_eq!(kind, "application/x-ndjson");
    assert_eq!(body.iter().filter(|b| **b == b'\n').count(), 4);
    let (kind, _) = post(&fake, "/api/chat", json!({"stream": false})).await;
    assert_eq!(kind, "application/json");

    let models = common::json_body(
        common::client()
            .get(format!("{}/v1/models", fake.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["type"], "model");
    assert_eq!(models["data"][0]["object"], "model");
    assert_eq!(fake.requests_served(), 7);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn canned_delay_and_pace_apply() {
    let canned = Canned {
        stream_chunks: 3,
        chunk_pause: Duration::from_millis(40),
        delay: Duration::from_millis(60),
    };
    let fake = FakeUpstream::start_fast(Options::default(), &canned)
        .await
        .unwrap();
    let started = Instant::now();
    post(&fake, "/v1/chat/completions", json!({})).await;
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let (_, body) = post(&fake, "/v1/chat/completions", json!({"stream": true})).await;
    // 60 ms delay + 6 chunk gaps of 40 ms (role, 3 words, finish, usage, done).
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert!(body.ends_with(b"data: [DONE]\n\n"));
}

#[tokio::test]
async fn a_scripted_reply_overrides_a_canned_default_once() {
    let fake = FakeUpstream::start_fast(Options::default(), &Canned::default())
        .await
        .unwrap();
    fake.push("/v1/messages", anthropic::overloaded());
    let response = common::client()
        .post(format!("{}/v1/messages", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 529);
    let (_, body) = post(&fake, "/v1/messages", json!({})).await;
    assert!(serde_json::from_slice::<Value>(&body).unwrap()["content"].is_array());
}
