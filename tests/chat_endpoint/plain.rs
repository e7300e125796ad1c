//! Non-streamed completions, translated from each upstream protocol, and routing through the
//! endpoint (aliases, Ollama tags).

use actix_web::http::StatusCode;
use moxxy_fake_upstream::{anthropic, ollama, openai, Reply};

use super::{ask, Harness, ANTHROPIC_PATH, OLLAMA_PATH, OPENAI_PATH};

#[actix_web::test]
async fn openai_upstream_answers_in_openai_format_with_the_name_sent() {
    let h = Harness::new().await;
    let body = openai::completion("Hello there!", openai::Usage::new(10, 3));
    h.fake.push(
        OPENAI_PATH,
        openai::reply(body)
            .header("x-ratelimit-remaining-requests", "99")
            .header("x-ratelimit-reset-tokens", "6m0s"),
    );

    let answer = h.chat(ask("openai/gpt-4.1", false)).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let json = answer.json();
    assert_eq!(json["object"], "chat.completion");
    assert_eq!(json["model"], "openai/gpt-4.1");
    assert_eq!(json["choices"][0]["message"]["role"], "assistant");
    assert_eq!(json["choices"][0]["message"]["content"], "Hello there!");
    assert_eq!(json["choices"][0]["finish_reason"], "stop");
    assert_eq!(json["usage"]["prompt_tokens"], 10);
    assert_eq!(json["usage"]["completion_tokens"], 3);
    assert_eq!(answer.header("x-ratelimit-remaining-requests"), Some("99"));
    assert_eq!(answer.header("x-ratelimit-reset-tokens"), Some("6m0s"));
    // The upstream got its own id, not the routed name.
    let sent = h.sent(OPENAI_PATH);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["model"], "gpt-4.1");
}

#[actix_web::test]
async fn anthropic_upstream_is_translated_to_openai_format() {
    let h = Harness::new().await;
    let message = anthropic::message("Bonjour !", anthropic::Usage::new(12, 4));
    h.fake.push(
        ANTHROPIC_PATH,
        anthropic::reply(message).header("anthropic-ratelimit-requests-remaining", "49"),
    );

    let answer = h.chat(ask("anthropic/claude-sonnet-4-5", false)).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let json = answer.json();
    assert_eq!(json["object"], "chat.completion");
    assert_eq!(json["model"], "anthropic/claude-sonnet-4-5");
    assert_eq!(json["choices"][0]["message"]["content"], "Bonjour !");
    assert_eq!(json["choices"][0]["finish_reason"], "stop");
    assert_eq!(json["usage"]["prompt_tokens"], 12);
    assert_eq!(json["usage"]["completion_tokens"], 4);
    // Anthropic's rate-limit state, in the names OpenAI clients read.
    assert_eq!(answer.header("x-ratelimit-remaining-requests"), Some("49"));
    let sent = h.sent(ANTHROPIC_PATH);
    assert_eq!(sent[0]["model"], "claude-sonnet-4-5");
    assert_eq!(sent[0]["messages"][0]["role"], "user");
    assert_eq!(sent[0]["max_tokens"], 64);
}

#[actix_web::test]
async fn ollama_upstream_is_translated_and_gets_the_latest_tag() {
    let h = Harness::new().await;
    let chat = ollama::chat("Hi from llama", ollama::Usage::new(26, 5));
    h.fake.push(OLLAMA_PATH, Reply::json(200, chat));

    let answer = h.chat(ask("ollama/llama3.2", false)).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let json = answer.json();
    assert_eq!(json["model"], "ollama/llama3.2");
    assert_eq!(json["choices"][0]["message"]["content"], "Hi from llama");
    assert_eq!(json["usage"]["prompt_tokens"], 26);
    assert_eq!(json["usage"]["completion_tokens"], 5);
    let sent = h.sent(OLLAMA_PATH);
    assert_eq!(sent[0]["model"], "llama3.2:latest");
    assert_eq!(sent[0]["stream"], false);
}

#[actix_web::test]
async fn an_alias_routes_to_its_target_and_the_client_sees_the_alias() {
    let h = Harness::new().await;
    let message = anthropic::message("Aliased", anthropic::Usage::new(5, 1));
    h.fake.push(ANTHROPIC_PATH, anthropic::reply(message));

    let answer = h.chat(ask("sonnet", false)).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["model"], "sonnet");
    assert_eq!(h.sent(ANTHROPIC_PATH)[0]["model"], "claude-sonnet-4-5");
}

#[actix_web::test]
async fn a_bare_id_offered_once_routes_to_its_provider() {
    let h = Harness::new().await;
    h.fake.push(
        OPENAI_PATH,
        openai::reply(openai::completion("Grok here", openai::Usage::new(3, 2))),
    );

    let answer = h.chat(ask("grok-3", false)).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["model"], "grok-3");
    let request = h.fake.requests().pop().unwrap();
    assert_eq!(request.json()["model"], "grok-3");
    assert_eq!(request.header("x-test-provider"), Some("xai"));
}
