//! Turns of one conversation run one after another; different conversations run at once; a full
//! queue is refused at once with 503.

use std::time::{Duration, Instant};

use moxxy_fake_upstream::{openai, Reply};
use serde_json::{json, Value};

use super::e2e::TestServer;
use super::{create_agent, requests, start, text_of, turn};

const ROUTE: &str = "/v1/chat/completions";

fn slow_answer(delay: Duration) -> Reply {
    openai::reply(openai::completion("ok", openai::Usage::new(5, 1))).delayed(delay)
}

/// Waits (at most 10 s) until the fake has seen `n` completion requests.
async fn until_seen(server: &TestServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while requests(server.fake(), ROUTE).len() < n {
        assert!(
            Instant::now() < deadline,
            "the upstream never saw {n} requests"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn post_turn(
    server: &TestServer,
    token: &str,
    agent: &str,
    body: Value,
) -> tokio::task::JoinHandle<u16> {
    let request = server
        .api(token)
        .request(
            reqwest::Method::POST,
            &format!("/v1/agents/{agent}/messages"),
        )
        .json(&body);
    tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
}

#[tokio::test]
async fn turns_of_one_conversation_are_serialized_and_conversations_run_at_once() {
    let (server, admin) = start(None).await;
    create_agent(&server, &admin, "clerk", "openai/gpt-4.1").await;
    let first = turn(&server, &admin, "clerk", json!("t0"), None).await;
    let conversation = first["conversation_id"].as_str().unwrap().to_string();
    server.fake().clear_requests();
    server
        .fake()
        .set_default(ROUTE, slow_answer(Duration::from_millis(300)));

    // Four turns on the same conversation at once.
    let handles: Vec<_> = (1..=4)
        .map(|i| {
            post_turn(
                &server,
                &admin,
                "clerk",
                json!({"content": format!("t{i}"), "conversation_id": conversation}),
            )
        })
        .collect();
    // While the first waits on the upstream, no second request goes out.
    until_seen(&server, 1).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        requests(server.fake(), ROUTE).len(),
        1,
        "one turn at a time"
    );
    for handle in handles {
        assert_eq!(handle.await.unwrap(), 200);
    }
    // Each request carried every exchange before it, whole: they ran one after another.
    let sent = requests(server.fake(), ROUTE);
    assert_eq!(sent.len(), 4);
    let mut order = Vec::new();
    for (k, request) in sent.iter().enumerate() {
        let messages = request.json()["messages"].as_array().unwrap().clone();
        // system, t0, ok, then one user + one assistant per earlier turn, then this turn.
        assert_eq!(messages.len(), 4 + 2 * k, "request {k}: {messages:?}");
        for (j, message) in messages.iter().enumerate().skip(1) {
            let expected = if j % 2 == 1 { "user" } else { "assistant" };
            assert_eq!(message["role"], expected, "request {k}");
        }
        order.push(text_of(&messages.last().unwrap()["content"]));
    }
    // The stored order is the order the upstream saw.
    let stored = server
        .api(&admin)
        .get(&format!("/v1/agents/clerk/conversations/{conversation}"))
        .await
        .expect(200)
        .json();
    let users: Vec<String> = stored["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap().to_string())
        .skip(1)
        .collect();
    assert_eq!(users, order);
    assert_eq!(stored["messages"].as_array().unwrap().len(), 10);

    // Two new conversations: both reach the upstream before either is answered.
    server.fake().clear_requests();
    server
        .fake()
        .set_default(ROUTE, slow_answer(Duration::from_millis(1500)));
    let a = post_turn(&server, &admin, "clerk", json!({"content": "a"}));
    let b = post_turn(&server, &admin, "clerk", json!({"content": "b"}));
    until_seen(&server, 2).await;
    assert!(
        !a.is_finished() && !b.is_finished(),
        "both were in flight at once"
    );
    assert_eq!(a.await.unwrap(), 200);
    assert_eq!(b.await.unwrap(), 200);
}

#[tokio::test]
async fn a_full_queue_is_refused_at_once_with_503() {
    let config = "[server]\nagent_queue_limit = 2\n";
    let (server, admin) = start(Some(config)).await;
    create_agent(&server, &admin, "busy", "openai/gpt-4.1").await;
    server
        .fake()
        .set_default(ROUTE, slow_answer(Duration::from_millis(1500)));
    let a = post_turn(&server, &admin, "busy", json!({"content": "a"}));
    let b = post_turn(&server, &admin, "busy", json!({"content": "b"}));
    until_seen(&server, 2).await;

    let refused = server
        .api(&admin)
        .post("/v1/agents/busy/messages", json!({"content": "c"}))
        .await;
    super::e2e::assert_error(
        &refused,
        503,
        "Agent 'busy' is busy: 2 turns are already running or waiting - retry later",
    );
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    assert_eq!(
        requests(server.fake(), ROUTE).len(),
        2,
        "the refused turn sent nothing"
    );

    assert_eq!(a.await.unwrap(), 200);
    assert_eq!(b.await.unwrap(), 200);
    // Room again.
    server
        .api(&admin)
        .post("/v1/agents/busy/messages", json!({"content": "d"}))
        .await
        .expect(200);
}
