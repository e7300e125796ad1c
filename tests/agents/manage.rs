//! Agents from config.toml and through the API: visible, usable, read-only where they must be,
//! and refusals that say what to fix.

use serde_json::json;

use super::e2e::assert_error;
use super::{create_agent, requests, start, text_of, turn};

const CONFIG: &str = r#"
[[personas]]
name = "researcher"
model = "anthropic/claude-sonnet-4-5"
system = "You are a careful research assistant."
temperature = 0.3
max_tokens = 300
stop = ["END"]
"#;

#[tokio::test]
async fn a_config_persona_is_visible_usable_and_read_only() {
    let (server, admin) = start(Some(CONFIG)).await;
    let api = server.api(&admin);

    let listed = api.get("/v1/agents").await.expect(200).json();
    let agents = listed["data"].as_array().unwrap();
    assert_eq!(agents.len(), 1, "{listed}");
    let agent = &agents[0];
    assert_eq!(agent["name"], "researcher");
    assert_eq!(agent["model"], "anthropic/claude-sonnet-4-5");
    assert_eq!(agent["source"], "config");
    assert_eq!(agent["conversations"], 0);

    let answer = turn(&server, &admin, "researcher", json!("What is 2+2?"), None).await;
    assert!(!answer["message"]["content"].as_str().unwrap().is_empty());
    assert_eq!(answer["message"]["role"], "assistant");
    assert!(answer["conversation_id"]
        .as_str()
        .unwrap()
        .starts_with("conv_"));
    assert!(
        answer["usage"]["input_tokens"].as_u64().is_some(),
        "{answer}"
    );
    assert_eq!(answer["stop_reason"], "end_turn");

    let sent = requests(server.fake(), "/v1/messages");
    assert_eq!(sent.len(), 1);
    let body = sent[0].json();
    assert_eq!(
        text_of(&body["system"]),
        "You are a careful research assistant."
    );
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["temperature"], 0.3);
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["stop_sequences"], json!(["END"]));
    assert_eq!(text_of(&body["messages"][0]["content"]), "What is 2+2?");

    let got = api.get("/v1/agents/researcher").await.expect(200).json();
    assert_eq!(got["conversations"], 1);

    for resp in [
        api.patch("/v1/agents/researcher", json!({"system": "x"}))
            .await,
        api.delete("/v1/agents/researcher").await,
    ] {
        assert_error(
            &resp,
            409,
            "Agent 'researcher' is defined in config.toml - change it there and restart moxxy",
        );
    }
    let dup = api
        .post(
            "/v1/agents",
            json!({"name": "researcher", "model": "sonnet"}),
        )
        .await;
    assert_error(&dup, 409, "Agent 'researcher' already exists");
}

#[tokio::test]
async fn api_agents_are_created_changed_listed_and_deleted() {
    let (server, admin) = start(None).await;
    let api = server.api(&admin);
    let created = create_agent(&server, &admin, "helper", "openai/gpt-4.1").await;
    assert_eq!(created["source"], "api");
    assert_eq!(created["system"], "You are helper.");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let changed = api
        .patch(
            "/v1/agents/helper",
            json!({"system": "You are terse.", "temperature": 0.5, "max_tokens": null}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(changed["system"], "You are terse.");
    assert_eq!(changed["temperature"], 0.5);
    assert_eq!(changed["max_tokens"], json!(null));
    assert_eq!(changed["model"], "openai/gpt-4.1", "untouched fields stay");

    // The next turn uses the change.
    let answer = turn(&server, &admin, "helper", json!("hi"), None).await;
    let body = requests(server.fake(), "/v1/chat/completions")[0].json();
    assert_eq!(body["messages"][0]["content"], "You are terse.");
    assert_eq!(body["temperature"], 0.5);
    assert!(body.get("max_tokens").is_none() && body.get("max_completion_tokens").is_none());

    let conversation = answer["conversation_id"].as_str().unwrap();
    let listed = api
        .get("/v1/agents/helper/conversations")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["data"][0]["id"], conversation);
    assert_eq!(listed["data"][0]["messages"], 2);

    api.delete("/v1/agents/helper").await.expect(204);
    assert_error(
        &api.get("/v1/agents/helper").await,
        404,
        "Agent 'helper' not found",
    );
    // Its conversations went with it: a new agent of the same name starts empty.
    create_agent(&server, &admin, "helper", "openai/gpt-4.1").await;
    let listed = api
        .get("/v1/agents/helper/conversations")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["data"], json!([]));
}

#[tokio::test]
async fn bad_input_says_what_to_fix_and_changes_nothing() {
    let (server, admin) = start(None).await;
    let api = server.api(&admin);
    create_agent(&server, &admin, "helper", "openai/gpt-4.1").await;
    let cases = [
        (
            json!({"name": "Bad Name", "model": "sonnet"}),
            400,
            "name: expected an agent id",
        ),
        (
            json!({"name": "x", "model": "nope/nothing"}),
            400,
            "model: Model 'nope/nothing' not found",
        ),
        (
            json!({"name": "x", "model": "sonnet", "temperature": 3}),
            400,
            "temperature: expected a temperature from 0 to 2",
        ),
        (
            json!({"name": "x", "model": "sonnet", "max_tokens": 0}),
            400,
            "max_tokens: expected a number of tokens greater than 0",
        ),
        (
            json!({"name": "x", "model": "sonnet", "colour": "red"}),
            422,
            "unknown field `colour`",
        ),
        (
            json!({"name": "x", "model": "sonnet", "tools": [{"name": "a b"}]}),
            400,
            "tools[0].name: expected 1 to 64 letters",
        ),
        (
            json!({"name": "helper", "model": "sonnet"}),
            409,
            "Agent 'helper' already exists",
        ),
    ];
    for (body, status, message) in cases {
        let resp = api.post("/v1/agents", body.clone()).await;
        assert_eq!(resp.status, status, "{body} -> {resp}");
        assert!(resp.text.contains(message), "{body} -> {resp}");
    }
    let turns = [
        (json!({"content": ""}), 400, "content: the message is empty"),
        (json!({"content": []}), 400, "content: the message is empty"),
        (
            json!({"content": [{"type": "audio"}]}),
            400,
            "content[0].type: 'audio' is not a part type - use text, image or tool_result",
        ),
        (
            json!({"content": [{"type": "tool_result", "content": "x"}]}),
            400,
            "content[0].tool_call_id: expected the id of the tool call this answers",
        ),
        (
            json!({"content": "hi", "conversation_id": "conv_000000000000000000000000"}),
            404,
            "Conversation 'conv_000000000000000000000000' not found for agent 'helper'",
        ),
        (
            json!({"content": "hi", "conversation_id": "../../etc"}),
            404,
            "not found for agent 'helper'",
        ),
        (json!({"text": "hi"}), 422, "text: unknown field `text`"),
        (json!({"stream": true}), 422, "missing field `content`"),
    ];
    for (body, status, message) in turns {
        let resp = api.post("/v1/agents/helper/messages", body.clone()).await;
        assert_eq!(resp.status, status, "{body} -> {resp}");
        assert!(resp.text.contains(message), "{body} -> {resp}");
    }
    assert_error(
        &api.post("/v1/agents/nobody/messages", json!({"content": "hi"}))
            .await,
        404,
        "Agent 'nobody' not found",
    );
    // Nothing was stored, nothing reached an upstream.
    let listed = api.get("/v1/agents").await.expect(200).json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["conversations"], 0);
    assert!(requests(server.fake(), "/v1/chat/completions").is_empty());
}

#[tokio::test]
async fn scopes_are_enforced() {
    let (server, admin) = start(None).await;
    create_agent(&server, &admin, "helper", "openai/gpt-4.1").await;
    let (_, reader) = server.api(&admin).create_token("r", &["read"], None).await;
    let (_, chatter) = server.api(&admin).create_token("c", &["chat"], None).await;
    let read = server.api(&reader);
    read.get("/v1/agents").await.expect(200);
    assert_eq!(
        read.post("/v1/agents/helper/messages", json!({"content": "hi"}))
            .await
            .status,
        403
    );
    let chat = server.api(&chatter);
    assert_eq!(
        chat.post("/v1/agents", json!({"name": "x", "model": "sonnet"}))
            .await
            .status,
        403
    );
    let answer = chat
        .post("/v1/agents/helper/messages", json!({"content": "hi"}))
        .await
        .expect(200)
        .json();
    let path = format!(
        "/v1/agents/helper/conversations/{}",
        answer["conversation_id"].as_str().unwrap()
    );
    assert_eq!(read.delete(&path).await.status, 403);
    chat.delete(&path).await.expect(204);
    assert_eq!(chat.delete(&path).await.status, 404);
    assert_eq!(server.anon().get("/v1/agents").await.status, 401);
}

#[actix_web::test]
async fn a_persona_with_an_unknown_model_stops_start_up_naming_it() {
    let data = tempfile::tempdir().unwrap();
    let toml = format!(
        "[storage]\npath = \"{}\"\n\n[[personas]]\nname = \"scribe\"\nmodel = \"nope/nothing\"\n",
        data.path().display()
    );
    let env = |name: &str| (name == "MOXXY_MASTER_KEY").then(|| super::e2e::MASTER_KEY.to_string());
    let config = moxxy::config::from_toml_str(&toml, &env).unwrap();
    let error = moxxy::server::build_state(config, std::sync::Arc::new(env))
        .await
        .err()
        .expect("start-up must fail");
    let message = error.to_string();
    assert!(
        message.contains("persona 'scribe' in config.toml names model 'nope/nothing'")
            && message.contains("Model 'nope/nothing' not found"),
        "{message}"
    );
}
