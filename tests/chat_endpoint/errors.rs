//! Errors of `/v1/chat/completions`, with the documented messages word for word.

use std::time::Duration;

use actix_web::http::StatusCode;
use moxxy_actors::provider::{Credentials, ProviderKind};
use moxxy_fake_upstream::{anthropic, ollama, openai};
use serde_json::json;

use super::{ask, Harness, ANTHROPIC_PATH, OLLAMA_PATH, OPENAI_PATH};

#[actix_web::test]
async fn rate_limit_after_retries_is_429_with_retry_after() {
    let h = Harness::new().await;
    h.fake.push_n(
        OPENAI_PATH,
        3,
        openai::rate_limited(Duration::from_millis(100)),
    );

    let answer = h.chat(ask("openai/gpt-4.1", false)).await;

    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.header("retry-after"), Some("1"));
    let error = answer.error();
    assert_eq!(error["message"], "Rate limit exceeded");
    assert_eq!(error["type"], "rate_limit_error");
    assert_eq!(error["code"], "rate_limit_exceeded");
    assert_eq!(error["provider"], "openai");
    // Two retries, then the answer.
    assert_eq!(h.fake.request_count(OPENAI_PATH), 3);
}

#[actix_web::test]
async fn rate_limit_before_a_stream_starts_is_a_json_429() {
    let h = Harness::new().await;
    // No retries, so the upstream's own hint reaches the client without a wait.
    let mut config = h.config("anthropic", ProviderKind::Anthropic);
    config.retry.max_retries = 0;
    h.add(config, vec!["claude-sonnet-4-5".into()], true).await;
    h.fake.push(ANTHROPIC_PATH, anthropic::rate_limited(7));

    let answer = h.chat(ask("sonnet", true)).await;

    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.header("retry-after"), Some("7"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.error()["message"], "Rate limit exceeded");
}

#[actix_web::test]
async fn a_rejected_key_is_401_word_for_word_and_never_echoed() {
    let h = Harness::new().await;
    h.fake
        .push(ANTHROPIC_PATH, anthropic::authentication_error());

    let answer = h.chat(ask("anthropic/claude-sonnet-4-5", false)).await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let error = answer.error();
    assert_eq!(
        error["message"],
        "Authentication failed - check your API key"
    );
    assert_eq!(error["type"], "authentication_error");
    assert!(!answer.text().contains(super::TEST_KEY));
    assert_eq!(h.fake.request_count(ANTHROPIC_PATH), 1, "not retried");
}

#[actix_web::test]
async fn a_rejected_key_before_a_stream_starts_is_a_json_401() {
    let h = Harness::new().await;
    h.fake.push(OPENAI_PATH, openai::invalid_api_key());

    let answer = h.chat(ask("openai/gpt-4.1", true)).await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.error()["message"],
        "Authentication failed - check your API key"
    );
}

#[actix_web::test]
async fn an_unknown_model_is_404_word_for_word_without_reaching_an_upstream() {
    let h = Harness::new().await;

    let answer = h.chat(ask("no-such-model", false)).await;

    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let error = answer.error();
    assert_eq!(error["message"], "Model 'no-such-model' not found");
    assert_eq!(error["code"], "model_not_found");
    assert_eq!(error["param"], "model");
    assert!(h.fake.requests().is_empty());
}

#[actix_web::test]
async fn an_upstream_model_not_found_names_the_model_as_sent() {
    let h = Harness::new().await;
    h.fake
        .push(OLLAMA_PATH, ollama::model_not_found("mistral:latest"));

    let answer = h.chat(ask("ollama/mistral", false)).await;

    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let error = answer.error();
    assert_eq!(error["message"], "Model 'ollama/mistral' not found");
    assert_eq!(error["provider"], "ollama");
    assert_eq!(h.sent(OLLAMA_PATH)[0]["model"], "mistral:latest");
}

#[actix_web::test]
async fn an_ambiguous_bare_id_is_400_listing_the_choices() {
    let h = Harness::new().await;

    let answer = h.chat(ask("shared", false)).await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let error = answer.error();
    assert_eq!(
        error["message"],
        "Model 'shared' is offered by several providers - use one of: relay/shared, xai/shared"
    );
    assert_eq!(error["param"], "model");
}

#[actix_web::test]
async fn bad_json_is_400_naming_the_problem() {
    let h = Harness::new().await;

    let answer = h
        .chat_raw(r#"{"model": "openai/gpt-4.1", "messages": ["#)
        .await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let message = answer.error()["message"].as_str().unwrap().to_string();
    assert!(message.contains("not valid JSON"), "{message}");
    assert!(h.fake.requests().is_empty());
}

#[actix_web::test]
async fn missing_messages_is_400_with_the_param() {
    let h = Harness::new().await;

    let answer = h.chat(json!({"model": "openai/gpt-4.1"})).await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let error = answer.error();
    assert_eq!(error["param"], "messages");
    assert_eq!(error["type"], "invalid_request_error");
    assert!(error["message"].as_str().unwrap().contains("messages"));
}

#[actix_web::test]
async fn a_wrong_field_type_names_the_field() {
    let h = Harness::new().await;
    let mut body = ask("openai/gpt-4.1", false);
    body["temperature"] = json!("hot");

    let answer = h.chat(body).await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error()["param"], "temperature");
}

#[actix_web::test]
async fn a_provider_without_a_key_says_how_to_set_one() {
    let h = Harness::new().await;
    let mut config = h.config("openai", ProviderKind::OpenAi);
    config.credentials = Credentials::None;
    config.key_env_hint = Some("OPENAI_API_KEY".into());
    h.add(config, vec!["gpt-4.1".into()], true).await;

    let answer = h.chat(ask("openai/gpt-4.1", false)).await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.error()["message"],
        "No API key set for provider 'openai' - set OPENAI_API_KEY or register one"
    );
    assert!(h.fake.requests().is_empty());
}

#[actix_web::test]
async fn an_unreachable_ollama_is_502_naming_the_address() {
    let h = Harness::new().await;
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = h.config("ollama", ProviderKind::Ollama);
    config.base_url = format!("http://127.0.0.1:{port}");
    h.add(config, vec!["llama3.2:latest".into()], true).await;

    let answer = h.chat(ask("local", false)).await;

    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        answer.error()["message"],
        format!("Ollama connection failed: could not reach http://127.0.0.1:{port}")
    );
}
