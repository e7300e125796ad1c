//! History survives a restart and `kill -9`; a reply cut short leaves the user message marked
//! incomplete, and the next turn still works.

use std::time::Duration;

use moxxy_fake_upstream::{openai, Reply};
use serde_json::{json, Value};

use super::e2e::TestServer;
use super::{create_agent, requests, sse_events, start, text_of, turn};

const ROUTE: &str = "/v1/chat/completions";

async fn conversation(server: &TestServer, token: &str, agent: &str, id: &str) -> Value {
    server
        .api(token)
        .get(&format!("/v1/agents/{agent}/conversations/{id}"))
        .await
        .expect(200)
        .json()
}

fn roles(conversation: &Value) -> Vec<String> {
    conversation["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn history_survives_a_restart_and_kill_9() {
    let (mut server, admin) = start(None).await;
    create_agent(&server, &admin, "keeper", "openai/gpt-4.1").await;
    let first = turn(&server, &admin, "keeper", json!("Remember 42."), None).await;
    let id = first["conversation_id"].as_str().unwrap().to_string();

    server.restart().await;
    let kept = conversation(&server, &admin, "keeper", &id).await;
    assert_eq!(roles(&kept), ["user", "assistant"]);
    let agent = server
        .api(&admin)
        .get("/v1/agents/keeper")
        .await
        .expect(200)
        .json();
    assert_eq!(agent["source"], "api", "the API agent came back");
    turn(&server, &admin, "keeper", json!("What number?"), Some(&id)).await;

    server.kill9().await;
    server.restart().await;
    let kept = conversation(&server, &admin, "keeper", &id).await;
    assert_eq!(roles(&kept), ["user", "assistant", "user", "assistant"]);
    assert_eq!(kept["messages"][0]["content"], "Remember 42.");

    // The next turn after the crash carries the whole history.
    turn(&server, &admin, "keeper", json!("Still there?"), Some(&id)).await;
    let body = requests(server.fake(), ROUTE).last().unwrap().json();
    let texts: Vec<String> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| text_of(&m["content"]))
        .collect();
    assert_eq!(texts.len(), 6, "{body}");
    assert_eq!(texts[1], "Remember 42.");
    assert_eq!(texts[3], "What number?");
    assert_eq!(texts[5], "Still there?");
}

#[tokio::test]
async fn a_reply_cut_short_leaves_an_incomplete_turn_and_the_next_works() {
    let (server, admin) = start(None).await;
    create_agent(&server, &admin, "keeper", "openai/gpt-4.1").await;
    let pieces = ["One ", "two ", "three ", "four."];
    server.fake().push(
        ROUTE,
        Reply::sse(openai::stream_text(openai::MODEL, &pieces, None)).cut_after(2),
    );
    let resp = server
        .api(&admin)
        .post(
            "/v1/agents/keeper/messages",
            json!({"content": "Count.", "stream": true}),
        )
        .await;
    resp.expect(200);
    let events = sse_events(&resp.text);
    assert_eq!(events.first().unwrap().0, "start");
    let (last, error) = events.last().unwrap();
    assert_eq!(last, "error", "{}", resp.text);
    assert!(
        error["error"]["message"].as_str().unwrap().len() > 10,
        "{error}"
    );
    assert!(events.iter().all(|(name, _)| name != "done"));
    let id = events[0].1["conversation_id"].as_str().unwrap().to_string();

    let stored = conversation(&server, &admin, "keeper", &id).await;
    assert_eq!(roles(&stored), ["user"]);
    assert_eq!(stored["messages"][0]["incomplete"], true);

    let next = turn(&server, &admin, "keeper", json!("Again."), Some(&id)).await;
    assert!(next["message"]["content"].as_str().is_some());
    let body = requests(server.fake(), ROUTE).last().unwrap().json();
    let sent: Vec<(String, String)> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                text_of(&m["content"]),
            )
        })
        .collect();
    assert_eq!(
        sent[1..],
        [
            ("user".to_string(), "Count.".to_string()),
            ("user".to_string(), "Again.".to_string())
        ]
    );
    let stored = conversation(&server, &admin, "keeper", &id).await;
    assert_eq!(roles(&stored), ["user", "user", "assistant"]);
    assert_eq!(stored["messages"][0]["incomplete"], true);
    assert!(stored["messages"][1].get("incomplete").is_none());
}

#[tokio::test]
async fn kill_9_during_a_streamed_reply_keeps_the_acknowledged_user_message() {
    let (mut server, admin) = start(None).await;
    create_agent(&server, &admin, "keeper", "openai/gpt-4.1").await;
    server.fake().push(
        ROUTE,
        Reply::sse(openai::stream_text(
            openai::MODEL,
            &["Half ", "a ", "reply"],
            None,
        ))
        .stall_after(2),
    );
    let mut response = server
        .api(&admin)
        .request(reqwest::Method::POST, "/v1/agents/keeper/messages")
        .json(&json!({"content": "Tell me a story.", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Read until the turn is acknowledged (the `start` event) and a piece has arrived.
    let mut seen = String::new();
    while !seen.contains("event: text") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("the stream goes on")
            .unwrap()
            .expect("more of the stream");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let id = sse_events(&seen)[0].1["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();

    server.kill9().await;
    drop(response);
    server.restart().await;

    let stored = conversation(&server, &admin, "keeper", &id).await;
    assert_eq!(roles(&stored), ["user"]);
    assert_eq!(stored["messages"][0]["content"], "Tell me a story.");
    assert_eq!(stored["messages"][0]["incomplete"], true);
    let next = turn(&server, &admin, "keeper", json!("Go on."), Some(&id)).await;
    assert_eq!(next["conversation_id"], id.as_str());
    let stored = conversation(&server, &admin, "keeper", &id).await;
    assert_eq!(roles(&stored), ["user", "user", "assistant"]);
}

#[tokio::test]
async fn a_streamed_turn_the_upstream_refuses_leaves_no_trace() {
    let (server, admin) = start(None).await;
    create_agent(&server, &admin, "keeper", "openai/gpt-4.1").await;
    let api = server.api(&admin);
    let stream = |conversation: Option<&str>| {
        let mut body = json!({"content": "Refused?", "stream": true});
        if let Some(id) = conversation {
            body["conversation_id"] = json!(id);
        }
        body
    };
    // A new conversation: refused, so it never existed.
    server.fake().push(ROUTE, openai::invalid_api_key());
    let refused = api.post("/v1/agents/keeper/messages", stream(None)).await;
    assert_eq!(refused.status, 401, "{refused}");
    let listed = api
        .get("/v1/agents/keeper/conversations")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["data"], json!([]), "{listed}");

    // An existing conversation keeps exactly what it had.
    let first = turn(&server, &admin, "keeper", json!("Hello"), None).await;
    let id = first["conversation_id"].as_str().unwrap().to_string();
    server.fake().push(ROUTE, openai::invalid_api_key());
    let refused = api
        .post("/v1/agents/keeper/messages", stream(Some(&id)))
        .await;
    assert_eq!(refused.status, 401, "{refused}");
    let stored = conversation(&server, &admin, "keeper", &id).await;
    assert_eq!(roles(&stored), ["user", "assistant"]);
    let listed = api
        .get("/v1/agents/keeper/conversations")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["data"][0]["messages"], 2);
}
