//! Streamed replies: pacing, slow first byte, cuts, resets, stalls, and clients that leave.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use moxxy_fake_upstream::{FakeUpstream, Reply};
use serde_json::json;

const MS: Duration = Duration::from_millis(1);

fn numbered(n: usize) -> Vec<Bytes> {
    (0..n)
        .map(|i| Bytes::from(format!("data: {i}\n\n")))
        .collect()
}

async fn open_stream(fake: &FakeUpstream) -> reqwest::Response {
    common::client()
        .post(format!("{}/v1/messages", fake.url()))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn chunks_arrive_one_by_one_with_the_pause_between_them() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/v1/messages", Reply::sse(numbered(4)).pause(60 * MS));
    let mut response = open_stream(&fake).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");

    let mut arrivals = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        arrivals.push((Instant::now(), chunk));
    }
    let chunks: Vec<&Bytes> = arrivals.iter().map(|(_, chunk)| chunk).collect();
    assert_eq!(chunks, numbered(4).iter().collect::<Vec<_>>());
    for pair in arrivals.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= 30 * MS, "chunks {gap:?} apart, paced at 60 ms");
    }
    assert_eq!(fake.aborted_streams(), 0);
}

#[tokio::test]
async fn headers_delay_holds_back_the_first_byte() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        Reply::sse(numbered(1)).headers_delay(150 * MS),
    );
    let started = Instant::now();
    let response = open_stream(&fake).await;
    assert!(
        started.elapsed() >= 120 * MS,
        "headers came after {:?}",
        started.elapsed()
    );
    assert_eq!(response.bytes().await.unwrap(), "data: 0\n\n");
}

#[tokio::test]
async fn first_chunk_delay_comes_after_the_headers() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        Reply::sse(numbered(1)).first_chunk_delay(150 * MS),
    );
    let started = Instant::now();
    let mut response = open_stream(&fake).await;
    let headers_after = started.elapsed();
    response.chunk().await.unwrap().unwrap();
    assert!(headers_after < 100 * MS, "headers waited {headers_after:?}");
    assert!(
        started.elapsed() >= 120 * MS,
        "chunk came after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cut_after_n_chunks_breaks_the_clients_body() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        Reply::sse(numbered(5)).pause(5 * MS).cut_after(2),
    );
    let mut response = open_stream(&fake).await;
    let mut received = Vec::new();
    let failure = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => panic!("the body ended cleanly after {received:?}"),
            Err(error) => break error,
        }
    };
    assert_eq!(received, b"data: 0\n\ndata: 1\n\n");
    assert!(failure.is_body() || failure.is_decode(), "{failure:?}");
    // A scripted cut is not a client that went away.
    assert!(!fake.wait_aborted(1, 50 * MS).await);
}

#[tokio::test]
async fn reset_fails_the_request_without_any_response() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/v1/messages", Reply::reset());
    fake.push("/v1/messages", Reply::json(200, json!({"ok": true})));
    let client = common::client();
    let url = format!("{}/v1/messages", fake.url());

    let error = client.post(&url).send().await.unwrap_err();
    assert!(error.status().is_none(), "{error:?}");
    assert!(error.is_request() || error.is_connect(), "{error:?}");
    // The next request gets its reply on a fresh connection.
    let response = client.post(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(fake.connections_accepted(), 2);
}

#[tokio::test]
async fn a_client_dropping_a_stream_midway_is_counted_as_aborted() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/v1/messages", Reply::sse(numbered(100)).pause(10 * MS));
    let mut response = open_stream(&fake).await;
    response.chunk().await.unwrap().unwrap();
    response.chunk().await.unwrap().unwrap();
    drop(response);
    assert!(fake.wait_aborted(1, Duration::from_secs(2)).await);
    assert!(
        fake.wait_for(Duration::from_secs(2), |f| f.open_connections() == 0)
            .await
    );
}

#[tokio::test]
async fn a_client_leaving_a_stalled_stream_is_counted_as_aborted() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/v1/messages", Reply::sse(numbered(3)).stall_after(1));
    let mut response = open_stream(&fake).await;
    assert_eq!(response.chunk().await.unwrap().unwrap(), "data: 0\n\n");
    let next = tokio::time::timeout(100 * MS, response.chunk()).await;
    assert!(next.is_err(), "the stall sent more: {next:?}");
    drop(response);
    assert!(fake.wait_aborted(1, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn a_client_leaving_during_a_slow_first_byte_is_counted_as_aborted() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        Reply::sse(numbered(1)).headers_delay(Duration::from_secs(5)),
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(100 * MS)
        .build()
        .unwrap();
    let result = client
        .post(format!("{}/v1/messages", fake.url()))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    assert!(fake.wait_aborted(1, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn a_client_leaving_a_slow_plain_reply_is_counted_as_abandoned() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        Reply::delay(Duration::from_secs(5), Reply::json(200, json!({}))),
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(100 * MS)
        .build()
        .unwrap();
    let result = client
        .post(format!("{}/v1/messages", fake.url()))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    assert!(
        fake.wait_for(Duration::from_secs(2), |f| f.abandoned_replies() == 1)
            .await
    );
    assert_eq!(fake.aborted_streams(), 0);
}

#[tokio::test]
async fn a_slow_plain_reply_arrives_after_its_delay() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        Reply::json(200, json!({"late": true})).delayed(120 * MS),
    );
    let started = Instant::now();
    let response = open_stream(&fake).await;
    assert!(started.elapsed() >= 100 * MS);
    assert_eq!(common::json_body(response).await, json!({"late": true}));
    assert_eq!(fake.abandoned_replies(), 0);
}
