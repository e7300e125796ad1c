//! The script (FIFO replies, defaults, 404) and what the fake records.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use moxxy_fake_upstream::{FakeUpstream, Reply};
use serde_json::{json, Value};

async fn get_json(url: &str) -> (u16, Value) {
    let response = common::client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, common::json_body(response).await)
}

#[tokio::test]
async fn queued_replies_come_first_in_order_then_the_default() {
    let fake = FakeUpstream::start().await.unwrap();
    let url = format!("{}/v1/models", fake.url());
    fake.push("/v1/models", Reply::json(200, json!({"n": 1})));
    fake.push("/v1/models", Reply::json(201, json!({"n": 2})));
    fake.set_default("/v1/models", Reply::json(200, json!({"n": "default"})));
    assert_eq!(fake.queued("/v1/models"), 2);

    assert_eq!(get_json(&url).await, (200, json!({"n": 1})));
    assert_eq!(get_json(&url).await, (201, json!({"n": 2})));
    assert_eq!(fake.queued("/v1/models"), 0);
    assert_eq!(get_json(&url).await, (200, json!({"n": "default"})));
    assert_eq!(get_json(&url).await, (200, json!({"n": "default"})));
}

#[tokio::test]
async fn a_path_with_nothing_scripted_gets_a_404_json_naming_it() {
    let fake = FakeUpstream::start().await.unwrap();
    let (status, body) = get_json(&format!("{}/api/tags", fake.url())).await;
    assert_eq!(status, 404);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("GET /api/tags"), "{message}");
}

#[tokio::test]
async fn push_n_serves_a_reply_n_times_then_falls_through() {
    let fake = FakeUpstream::start().await.unwrap();
    let url = format!("{}/api/version", fake.url());
    fake.push_n("/api/version", 3, Reply::json(200, json!({"version": "1"})));
    for _ in 0..3 {
        assert_eq!(get_json(&url).await.0, 200);
    }
    assert_eq!(get_json(&url).await.0, 404);
    assert_eq!(fake.request_count("/api/version"), 4);
}

#[tokio::test]
async fn the_query_string_does_not_change_the_route() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/v1/models", Reply::json(200, json!({"data": []})));
    let (status, _) = get_json(&format!("{}/v1/models?limit=1", fake.url())).await;
    assert_eq!(status, 200);
    let recorded = fake.requests();
    assert_eq!(recorded[0].path, "/v1/models?limit=1");
    assert_eq!(recorded[0].route(), "/v1/models");
    assert_eq!(fake.request_count("/v1/models"), 1);
}

#[tokio::test]
async fn requests_are_recorded_with_method_headers_body_and_connection() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/messages", Reply::json(200, json!({})));
    let client = common::client();
    let url = format!("{}/v1/messages", fake.url());
    for turn in 0..2 {
        client
            .post(&url)
            .header("X-Api-Key", "sk-ant-test")
            .header("anthropic-version", "2023-06-01")
            .body(json!({"model": "m", "turn": turn}).to_string())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }

    let recorded = fake.requests();
    assert_eq!(recorded.len(), 2);
    let first = &recorded[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/messages");
    assert_eq!(first.header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(first.header("ANTHROPIC-VERSION"), Some("2023-06-01"));
    assert!(first.headers.iter().any(|(name, _)| name == "x-api-key"));
    assert_eq!(first.json(), json!({"model": "m", "turn": 0}));
    assert_eq!(recorded[1].json()["turn"], 1);
    assert!(recorded[1].received_at >= first.received_at);
    // The same client reuses its keep-alive connection.
    assert_eq!(first.connection, recorded[1].connection);
    assert_eq!(fake.connections_accepted(), 1);
}

#[tokio::test]
async fn recording_off_keeps_nothing_but_still_counts() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_recording(false);
    fake.set_default("/api/version", Reply::json(200, json!({"version": "1"})));
    get_json(&format!("{}/api/version", fake.url())).await;
    assert!(fake.requests().is_empty());
    assert_eq!(fake.requests_served(), 1);
}

#[tokio::test]
async fn status_and_headers_of_a_reply_are_sent() {
    let fake = FakeUpstream::start().await.unwrap();
    let reply = Reply::bytes(502, "text/html", "<html>Bad gateway</html>")
        .header("x-request-id", "req_1")
        .status(503);
    fake.push("/v1/chat/completions", reply);
    let response = common::client()
        .post(format!("{}/v1/chat/completions", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["x-request-id"], "req_1");
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.text().await.unwrap(), "<html>Bad gateway</html>");
}

#[tokio::test]
async fn a_mistake_in_the_script_is_served_as_a_500_that_names_it() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/x", Reply::json(200, json!({})).header("bad header", "v"));
    let response = common::client()
        .get(format!("{}/x", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 500);
    assert!(response.text().await.unwrap().contains("bad header"));
}

#[tokio::test]
async fn the_stream_flag_of_the_request_picks_the_reply() {
    let fake = FakeUpstream::start().await.unwrap();
    let streamed = Reply::sse(vec!["data: s\n\n".into()]);
    let plain = Reply::json(200, json!({"plain": true}));
    fake.set_default(
        "/v1/messages",
        Reply::if_stream(streamed.clone(), plain.clone()),
    );
    fake.set_default("/api/chat", Reply::unless_stream_false(streamed, plain));
    let client = common::client();
    let ask = |path: &str, body: Value| {
        let request = client
            .post(format!("{}{path}", fake.url()))
            .body(body.to_string());
        async move {
            let response = request.send().await.unwrap();
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };

    assert_eq!(
        ask("/v1/messages", json!({"stream": true})).await,
        "text/event-stream"
    );
    assert_eq!(
        ask("/v1/messages", json!({"model": "m"})).await,
        "application/json"
    );
    assert_eq!(
        ask("/api/chat", json!({"model": "m"})).await,
        "text/event-stream"
    );
    assert_eq!(
        ask("/api/chat", json!({"stream": false})).await,
        "application/json"
    );
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_server() {
    let fake = FakeUpstream::start().await.unwrap();
    let addr = fake.addr();
    let clone = fake.clone();
    drop(fake);
    // A clone keeps it alive.
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    drop(clone);
    let mut refused = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(
        refused,
        "the listener is still accepting after the fake was dropped"
    );
}
