//! Turns: the second carries the system prompt and the first exchange to every protocol, and a
//! streamed run sends its events in order.

use moxxy_fake_upstream::{anthropic, ollama, openai, Reply};
use serde_json::{json, Value};

use super::{create_agent, requests, sse_events, start, text_of, turn};

/// The first reply each protocol gives, scripted so the second request can be checked for it.
fn first_reply(route: &str) -> Reply {
    match route {
        "/v1/messages" => anthropic::reply(anthropic::message(
            "First answer.",
            anthropic::Usage::new(10, 3),
        )),
        "/v1/chat/completions" => openai::reply(openai::completion(
            "First answer.",
            openai::Usage::new(10, 3),
        )),
        _ => Reply::json(
            200,
            ollama::chat("First answer.", ollama::Usage::new(10, 3)),
        ),
    }
}

/// `(role, text)` of each message the upstream was sent, the system prompt included.
fn conversation_sent(route: &str, body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if route == "/v1/messages" {
        out.push(("system".to_string(), text_of(&body["system"])));
    }
    for message in body["messages"].as_array().unwrap() {
        let role = message["role"].as_str().unwrap().to_string();
        let role = if role == "developer" {
            "system".into()
        } else {
            role
        };
        out.push((role, text_of(&message["content"])));
    }
    out
}

#[tokio::test]
async fn the_second_turn_carries_the_system_prompt_and_the_first_turn_for_each_protocol() {
    let (server, admin) = start(None).await;
    let cases = [
        ("anthropic/claude-sonnet-4-5", "/v1/messages"),
        ("openai/gpt-4.1", "/v1/chat/completions"),
        ("ollama/llama3.2", "/api/chat"),
    ];
    for (i, (model, route)) in cases.into_iter().enumerate() {
        let agent = format!("agent{i}");
        create_agent(&server, &admin, &agent, model).await;
        server.fake().push(route, first_reply(route));
        let first = turn(&server, &admin, &agent, json!("Question one?"), None).await;
        assert_eq!(first["message"]["content"], "First answer.", "{model}");
        let conversation = first["conversation_id"].as_str().unwrap();
        let second = turn(
            &server,
            &admin,
            &agent,
            json!("Question two?"),
            Some(conversation),
        )
        .await;
        assert_eq!(second["conversation_id"], conversation);

        let sent = requests(server.fake(), route);
        let last = sent.last().unwrap().json();
        let expected: Vec<(String, String)> = [
            ("system", format!("You are {agent}.")),
            ("user", "Question one?".to_string()),
            ("assistant", "First answer.".to_string()),
            ("user", "Question two?".to_string()),
        ]
        .into_iter()
        .map(|(role, text)| (role.to_string(), text))
        .collect();
        assert_eq!(conversation_sent(route, &last), expected, "{model}: {last}");

        // The stored conversation: four messages, none incomplete.
        let stored = server
            .api(&admin)
            .get(&format!("/v1/agents/{agent}/conversations/{conversation}"))
            .await
            .expect(200)
            .json();
        let messages = stored["messages"].as_array().unwrap();
        let roles: Vec<&str> = messages
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user", "assistant"], "{model}");
        assert!(messages.iter().all(|m| m.get("incomplete").is_none()));
        assert_eq!(messages[1]["content"], "First answer.");
    }
}

#[tokio::test]
async fn a_streamed_run_sends_its_events_in_order() {
    let (server, admin) = start(None).await;
    create_agent(&server, &admin, "weather", "anthropic/claude-sonnet-4-5").await;
    server.fake().push(
        "/v1/messages",
        Reply::sse(anthropic::stream_thinking_text_tool(anthropic::MODEL)),
    );
    let resp = server
        .api(&admin)
        .post(
            "/v1/agents/weather/messages",
            json!({"content": "Weather in Paris?", "stream": true}),
        )
        .await;
    resp.expect(200);
    assert!(resp.content_type().starts_with("text/event-stream"));
    let events = sse_events(&resp.text);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "start",
            "thinking",
            "thinking",
            "text",
            "text",
            "tool_call",
            "usage",
            "done"
        ],
        "{}",
        resp.text
    );
    let conversation = events[0].1["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(events[0].1["agent"], "weather");
    let joined = |name: &str| -> String {
        events
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, d)| d["text"].as_str().unwrap())
            .collect()
    };
    assert_eq!(joined("thinking"), "Need the weather; call get_weather.");
    assert_eq!(joined("text"), "Checking Paris.");
    assert_eq!(
        events[5].1,
        json!({"id": "toolu_01T1", "name": "get_weather", "arguments": {"city": "Paris"}})
    );
    assert_eq!(
        events[6].1,
        json!({"input_tokens": 512, "output_tokens": 89})
    );
    assert_eq!(events[7].1["conversation_id"], conversation.as_str());
    assert_eq!(events[7].1["stop_reason"], "tool_use");

    // What was stored is what was streamed.
    let stored = server
        .api(&admin)
        .get(&format!("/v1/agents/weather/conversations/{conversation}"))
        .await
        .expect(200)
        .json();
    let reply = &stored["messages"][1];
    assert_eq!(reply["id"], events[7].1["message_id"]);
    assert_eq!(reply["content"], "Checking Paris.");
    assert_eq!(reply["thinking"], "Need the weather; call get_weather.");
    assert_eq!(reply["tool_calls"][0]["name"], "get_weather");
    assert_eq!(reply["stop_reason"], "tool_use");
}

#[tokio::test]
async fn an_openai_stream_relays_each_piece_as_it_comes() {
    let (server, admin) = start(None).await;
    create_agent(&server, &admin, "poet", "openai/gpt-4.1").await;
    let pieces = ["Roses ", "are ", "red."];
    server.fake().push(
        "/v1/chat/completions",
        Reply::sse(openai::stream_text(
            openai::MODEL,
            &pieces,
            Some(openai::Usage::new(7, 3)),
        )),
    );
    let resp = server
        .api(&admin)
        .post(
            "/v1/agents/poet/messages",
            json!({"content": "A poem", "stream": true}),
        )
        .await;
    resp.expect(200);
    let events = sse_events(&resp.text);
    let texts: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "text")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, pieces, "one event per upstream piece");
    assert_eq!(events.last().unwrap().0, "done");
    let sent = requests(server.fake(), "/v1/chat/completions")[0].json();
    assert_eq!(sent["stream"], true);
}
