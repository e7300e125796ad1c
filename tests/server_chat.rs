//! `POST /v1/chat/completions` end to end, once per wire protocol: the OpenAI built-in, the
//! Anthropic built-in (translated both ways), Ollama (translated both ways) and a custom
//! OpenAI-compatible provider, streamed and not. Each test checks the answer the client gets
//! and the request the fake upstream recorded.

#![allow(clippy::unwrap_used)]

mod e2e;

use e2e::{assert_request_id, chat, chat_stream, provider, sse_chunks, ServerOptions, TestServer};
use moxxy_fake_upstream::{
    anthropic, ollama, openai, Canned, FakeUpstream, RecordedRequest, Reply,
};
use serde_json::{json, Value};

const OPENAI_KEY: &str = "sk-test-openai-0123456789abcd";
const ANTHROPIC_KEY: &str = "sk-ant-test-0123456789abcdef";

/// A fake with the canned defaults, and a server with both built-in keys pointing at it.
async fn start(extra: &[(&str, &str)]) -> (TestServer, String) {
    let fake = FakeUpstream::start().await.unwrap();
    Canned::default().install(&fake);
    let mut options = ServerOptions::new()
        .upstream(&fake)
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    for (name, value) in extra {
        options = options.env(name, value);
    }
    let server = TestServer::start(options).await;
    let admin = server.bootstrap_admin_token().await;
    (server, admin)
}

/// The only request the fake saw on `route`.
fn only_request(fake: &FakeUpstream, route: &str) -> RecordedRequest {
    let seen: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.route() == route)
        .collect();
    assert_eq!(
        seen.len(),
        1,
        "one upstream request to {route}, saw {seen:?}"
    );
    seen.into_iter().next().unwrap()
}

/// The text of a `system` or message `content`: a string, or text blocks / parts.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect(),
        _ => String::new(),
    }
}

fn with_sampling(mut body: Value) -> Value {
    body["temperature"] = json!(0.25);
    body["stop"] = json!(["END"]);
    body
}

#[tokio::test]
async fn openai_builtin_plain() {
    let (server, admin) = start(&[]).await;
    let fake = server.fake();
    fake.push(
        "/v1/chat/completions",
        openai::reply(openai::completion(
            "Hello from OpenAI",
            openai::Usage::new(9, 4),
        )),
    );

    let resp = server
        .api(&admin)
        .post(
            "/v1/chat/completions",
            with_sampling(chat("openai/gpt-4.1-mini", "Say hi")),
        )
        .await;
    let body = resp.expect(200).json();
    assert_request_id(&resp);
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from OpenAI"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 9);
    assert_eq!(body["usage"]["completion_tokens"], 4);
    assert_eq!(body["usage"]["total_tokens"], 13);

    let sent = only_request(fake, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    let json = sent.json();
    assert_eq!(json["model"], "gpt-4.1-mini");
    assert_eq!(text_of(&json["messages"][0]["content"]), "Be brief.");
    assert!(matches!(
        json["messages"][0]["role"].as_str(),
        Some("system" | "developer")
    ));
    assert_eq!(json["messages"][1]["role"], "user");
    assert_eq!(text_of(&json["messages"][1]["content"]), "Say hi");
    assert!(
        json["max_tokens"] == 64 || json["max_completion_tokens"] == 64,
        "{json}"
    );
    assert_eq!(json["temperature"], 0.25);
    assert_eq!(json["stop"], json!(["END"]));
    assert!(
        json["stream"].is_null() || json["stream"] == false,
        "{json}"
    );
}

#[tokio::test]
async fn openai_builtin_streamed_with_and_without_usage() {
    let (server, admin) = start(&[]).await;
    let fake = server.fake();
    let usage = openai::Usage::new(9, 3);
    let stream = || {
        Reply::sse(openai::stream_text(
            openai::MODEL,
            &["Hel", "lo", " there"],
            Some(usage),
        ))
    };
    fake.push("/v1/chat/completions", stream());
    fake.push("/v1/chat/completions", stream());
    let api = server.api(&admin);

    let resp = api
        .post(
            "/v1/chat/completions",
            chat_stream("openai/gpt-4.1-mini", "hi", true),
        )
        .await;
    assert_request_id(&resp);
    let stream = sse_chunks(&resp);
    assert_eq!(stream.text(), "Hello there");
    assert_eq!(stream.finish_reason().as_deref(), Some("stop"));
    let usage_chunks = stream.usage_chunks();
    assert_eq!(
        usage_chunks.len(),
        1,
        "one usage chunk when asked:\n{}",
        resp.text
    );
    let last = stream.chunks.last().unwrap();
    assert_eq!(usage_chunks[0], last, "the usage chunk is the last one");
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 9);
    assert_eq!(last["usage"]["completion_tokens"], 3);
    let sent = only_request(fake, "/v1/chat/completions");
    assert_eq!(sent.json()["stream"], true);
    assert_eq!(sent.json()["stream_options"]["include_usage"], true);

    // Not asked: no usage chunk for the client, but usage is still asked of the upstream.
    fake.clear_requests();
    let resp = api
        .post(
            "/v1/chat/completions",
            chat_stream("openai/gpt-4.1-mini", "hi", false),
        )
        .await;
    let stream = sse_chunks(&resp);
    assert_eq!(stream.text(), "Hello there");
    assert!(
        stream.usage_chunks().is_empty(),
        "usage only when asked:\n{}",
        resp.text
    );
    assert!(stream
        .chunks
        .iter()
        .all(|c| !c["choices"].as_array().unwrap().is_empty()));
    let sent = only_request(fake, "/v1/chat/completions");
    assert_eq!(
        sent.json()["stream_options"]["include_usage"],
        true,
        "Moxxy asks for usage upstream"
    );
}

#[tokio::test]
async fn anthropic_builtin_plain_translates_both_ways() {
    let (server, admin) = start(&[]).await;
    let fake = server.fake();
    fake.push(
        "/v1/messages",
        anthropic::reply(anthropic::message(
            "Hello from Claude",
            anthropic::Usage::new(11, 5),
        )),
    );

    let model = "anthropic/claude-haiku-4-5-20251001";
    let resp = server
        .api(&admin)
        .post("/v1/chat/completions", with_sampling(chat(model, "Say hi")))
        .await;
    let body = resp.expect(200).json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from Claude"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 11);
    assert_eq!(body["usage"]["completion_tokens"], 5);

    let sent = only_request(fake, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(ANTHROPIC_KEY));
    assert!(
        sent.header("anthropic-version").is_some(),
        "anthropic-version header"
    );
    assert!(
        sent.header("authorization").is_none(),
        "an API key goes in x-api-key only"
    );
    let json = sent.json();
    assert_eq!(json["model"], "claude-haiku-4-5-20251001");
    assert_eq!(json["max_tokens"], 64);
    assert_eq!(text_of(&json["system"]), "Be brief.");
    let messages = json["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "the system message moved out: {json}");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(text_of(&messages[0]["content"]), "Say hi");
    assert_eq!(json["stop_sequences"], json!(["END"]));
    assert_eq!(json["temperature"], 0.25);
}

#[tokio::test]
async fn anthropic_builtin_streamed() {
    let (server, admin) = start(&[]).await;
    server.fake().push(
        "/v1/messages",
        Reply::sse(anthropic::stream_text(
            anthropic::MODEL,
            &["Hel", "lo", "!"],
        )),
    );

    let resp = server
        .api(&admin)
        .post(
            "/v1/chat/completions",
            chat_stream("anthropic/claude-haiku-4-5-20251001", "hi", true),
        )
        .await;
    let stream = sse_chunks(&resp);
    assert_eq!(stream.text(), "Hello!");
    assert_eq!(stream.finish_reason().as_deref(), Some("stop"));
    let usage = stream.usage_chunks();
    assert_eq!(usage.len(), 1, "{}", resp.text);
    assert_eq!(usage[0]["usage"]["prompt_tokens"], 12);
    assert_eq!(usage[0]["usage"]["completion_tokens"], 3);
    assert_eq!(
        only_request(server.fake(), "/v1/messages").json()["stream"],
        true
    );
}

#[tokio::test]
async fn anthropic_tool_use_becomes_openai_tool_calls() {
    let (server, admin) = start(&[]).await;
    let answer = anthropic::tool_use_message(
        "",
        "toolu_01A",
        "get_weather",
        json!({"city": "Paris"}),
        anthropic::Usage::new(30, 12),
    );
    server.fake().push("/v1/messages", anthropic::reply(answer));

    let mut body = chat("anthropic/claude-haiku-4-5-20251001", "Weather in Paris?");
    body["tools"] = json!([e2e::bodies::weather_tool()]);
    let resp = server.api(&admin).post("/v1/chat/completions", body).await;
    let json = resp.expect(200).json();
    let choice = &json["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["id"], "toolu_01A");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"city": "Paris"}));

    let sent = only_request(server.fake(), "/v1/messages").json();
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    assert_eq!(
        sent["tools"][0]["input_schema"]["properties"]["city"]["type"],
        "string"
    );
}

#[tokio::test]
async fn ollama_plain_and_streamed_with_a_bare_host_port() {
    let fake = FakeUpstream::start().await.unwrap();
    Canned::default().install(&fake);
    let host = format!("127.0.0.1:{}", fake.addr().port());
    let server = TestServer::start(
        ServerOptions::new()
            .upstream(&fake)
            .env("OLLAMA_HOST", &host),
    )
    .await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let plain = Reply::json(
        200,
        ollama::chat("Hello from Ollama", ollama::Usage::new(20, 3)),
    );
    let streamed = Reply::ndjson(ollama::stream_text(
        ollama::MODEL,
        &["Hello", " from", " Ollama"],
    ));
    fake.push(
        "/api/chat",
        Reply::unless_stream_false(streamed.clone(), plain),
    );

    let resp = api
        .post("/v1/chat/completions", chat("ollama/llama3.2", "Say hi"))
        .await;
    let body = resp.expect(200).json();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from Ollama"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let sent = only_request(&fake, "/api/chat");
    assert!(sent.header("authorization").is_none(), "Ollama gets no key");
    let json = sent.json();
    assert!(
        matches!(json["model"].as_str(), Some("llama3.2:latest" | "llama3.2")),
        "{json}"
    );
    let messages = json["messages"].as_array().unwrap();
    assert_eq!(
        (&messages[0]["role"], &messages[0]["content"]),
        (&json!("system"), &json!("Be brief."))
    );
    assert_eq!(
        (&messages[1]["role"], &messages[1]["content"]),
        (&json!("user"), &json!("Say hi"))
    );
    assert_eq!(json["options"]["num_predict"], 64);

    fake.clear_requests();
    fake.push("/api/chat", streamed);
    let resp = api
        .post(
            "/v1/chat/completions",
            chat_stream("ollama/llama3.2", "Say hi", true),
        )
        .await;
    let stream = sse_chunks(&resp);
    assert_eq!(stream.text(), "Hello from Ollama");
    assert_eq!(stream.finish_reason().as_deref(), Some("stop"));
    assert_eq!(stream.usage_chunks().len(), 1, "{}", resp.text);
    assert_eq!(only_request(&fake, "/api/chat").route(), "/api/chat");
}

#[tokio::test]
async fn a_custom_provider_plain_and_streamed_with_its_headers() {
    let (server, admin) = start(&[]).await;
    let api = server.api(&admin);
    let fake = server.fake();
    let mut registration = provider(
        "acme",
        &format!("{}/acme/v1", fake.url()),
        "acme-test-key-0123456789",
        &["acme-large"],
    );
    registration["headers"] = json!({"X-Acme-Org": "org-7"});
    api.post("/v1/providers", registration).await.expect(201);
    fake.push(
        "/acme/v1/chat/completions",
        openai::reply(openai::completion(
            "Hello from Acme",
            openai::Usage::new(5, 3),
        )),
    );
    fake.push(
        "/acme/v1/chat/completions",
        Reply::sse(openai::stream_text(
            "acme-large",
            &["Hello", " Acme"],
            Some(openai::Usage::new(5, 2)),
        )),
    );

    let resp = api
        .post("/v1/chat/completions", chat("acme/acme-large", "hi"))
        .await;
    assert_eq!(
        resp.expect(200).json()["choices"][0]["message"]["content"],
        "Hello from Acme"
    );
    let sent = only_request(fake, "/acme/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer acme-test-key-0123456789")
    );
    assert_eq!(sent.header("x-acme-org"), Some("org-7"));
    assert_eq!(sent.json()["model"], "acme-large");

    fake.clear_requests();
    let resp = api
        .post(
            "/v1/chat/completions",
            chat_stream("acme/acme-large", "hi", false),
        )
        .await;
    assert_eq!(sse_chunks(&resp).text(), "Hello Acme");
    assert_eq!(
        only_request(fake, "/acme/v1/chat/completions").json()["stream"],
        true
    );
}
