//! Agents end to end through the real binary (API.md, *Agents*): personas from config.toml, API
//! agents, turns that carry the history to each protocol, tool calls and their results, streamed
//! runs, ordering, the queue bound, and history that survives restarts and `kill -9`.

#![allow(clippy::unwrap_used)]

mod e2e;

#[path = "agents/chat_cli.rs"]
mod chat_cli;
#[path = "agents/durability.rs"]
mod durability;
#[path = "agents/manage.rs"]
mod manage;
#[path = "agents/order.rs"]
mod order;
#[path = "agents/tools.rs"]
mod tools;
#[path = "agents/turns.rs"]
mod turns;

use e2e::{ServerOptions, TestServer};
use moxxy_fake_upstream::{Canned, FakeUpstream, RecordedRequest};
use serde_json::{json, Value};

pub const OPENAI_KEY: &str = "sk-test-openai-agents-0123456789";
pub const ANTHROPIC_KEY: &str = "sk-ant-test-agents-0123456789abc";

/// A server whose built-ins point at a fake with the canned replies, and an admin token.
pub async fn start(config: Option<&str>) -> (TestServer, String) {
    let fake = FakeUpstream::start().await.unwrap();
    Canned::default().install(&fake);
    let mut options = ServerOptions::new()
        .upstream(&fake)
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    if let Some(toml) = config {
        options = options.config(toml);
    }
    let server = TestServer::start(options).await;
    let admin = server.bootstrap_admin_token().await;
    (server, admin)
}

/// Creates agent `name` on `model` with a system prompt; answers the agent's JSON.
pub async fn create_agent(server: &TestServer, admin: &str, name: &str, model: &str) -> Value {
    server
        .api(admin)
        .post(
            "/v1/agents",
            json!({"name": name, "model": model, "system": format!("You are {name}."), "max_tokens": 256}),
        )
        .await
        .expect(201)
        .json()
}

/// One JSON turn; answers the turn's JSON.
pub async fn turn(
    server: &TestServer,
    token: &str,
    agent: &str,
    content: Value,
    conversation: Option<&str>,
) -> Value {
    let mut body = json!({"content": content});
    if let Some(id) = conversation {
        body["conversation_id"] = json!(id);
    }
    server
        .api(token)
        .post(&format!("/v1/agents/{agent}/messages"), body)
        .await
        .expect(200)
        .json()
}

/// The requests the fake saw on `route`, in order.
pub fn requests(fake: &FakeUpstream, route: &str) -> Vec<RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.route() == route)
        .collect()
}

pub use e2e::sse_events;

/// The text of a message's `content`: a string, or text blocks / parts.
pub fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect(),
        _ => String::new(),
    }
}
