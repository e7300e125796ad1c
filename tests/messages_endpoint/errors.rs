//! Every error of `/v1/messages` in Anthropic's shape, with the documented messages word for
//! word: auth, bad bodies, routing, and upstream failures.

use actix_web::http::StatusCode;
use actix_web::test;
use moxxy::auth::token::Scope;
use moxxy_fake_upstream::{anthropic, openai};
use serde_json::json;

use super::{ask, Harness, ANTHROPIC_PATH, OPENAI_PATH};

const UNKNOWN_TOKEN: &str = "mox_0000000000000000000000000000000000000000000000000000000000000000";

#[actix_web::test]
async fn a_bad_token_in_x_api_key_is_401_authentication_error() {
    let h = Harness::new().await;
    let req = test::TestRequest::post()
        .uri("/v1/messages")
        .insert_header(("x-api-key", UNKNOWN_TOKEN))
        .set_payload(ask("sonnet", false).to_string());

    let answer = h.call(req).await;

    let message = answer.anthropic_error(StatusCode::UNAUTHORIZED, "authentication_error");
    assert_eq!(message, "Missing or invalid API token");
    assert!(h.fake.requests().is_empty());
}

#[actix_web::test]
async fn a_missing_token_is_401_and_a_bearer_token_works() {
    let h = Harness::new().await;
    let bare = test::TestRequest::post()
        .uri("/v1/messages")
        .set_payload(ask("sonnet", false).to_string());
    let answer = h.call(bare).await;
    answer.anthropic_error(StatusCode::UNAUTHORIZED, "authentication_error");

    let reply = anthropic::message("ok", anthropic::Usage::new(3, 1));
    h.fake.push(ANTHROPIC_PATH, anthropic::reply(reply));
    let bearer = test::TestRequest::post()
        .uri("/v1/messages")
        .insert_header(("authorization", format!("Bearer {}", h.token)))
        .set_payload(ask("sonnet", false).to_string());
    let answer = h.call(bearer).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[actix_web::test]
async fn a_token_without_the_chat_scope_is_403_permission_error() {
    let h = Harness::new().await;
    let read_only = super::h_token(&h.state, Scope::Read);
    let req = test::TestRequest::post()
        .uri("/v1/messages")
        .insert_header(("x-api-key", read_only))
        .set_payload(ask("sonnet", false).to_string());

    let answer = h.call(req).await;

    let message = answer.anthropic_error(StatusCode::FORBIDDEN, "permission_error");
    assert!(message.contains("'chat'"), "{message}");
}

#[actix_web::test]
async fn an_unknown_model_is_404_not_found_error_word_for_word() {
    let h = Harness::new().await;

    let answer = h.messages(ask("nobody/no-such-model", false)).await;

    let message = answer.anthropic_error(StatusCode::NOT_FOUND, "not_found_error");
    assert_eq!(message, "Model 'nobody/no-such-model' not found");
    assert!(h.fake.requests().is_empty());
}

#[actix_web::test]
async fn an_upstream_429_is_429_rate_limit_error_with_retry_after() {
    let h = Harness::new().await;
    h.fake.push(ANTHROPIC_PATH, anthropic::rate_limited(7));

    let answer = h.messages(ask("sonnet", false)).await;

    let message = answer.anthropic_error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error");
    assert_eq!(message, "Rate limit exceeded");
    assert_eq!(answer.header("retry-after"), Some("7"));
}

#[actix_web::test]
async fn an_openai_429_before_a_stream_starts_is_a_json_429() {
    let h = Harness::new().await;
    h.fake.push(
        OPENAI_PATH,
        openai::rate_limited(std::time::Duration::from_millis(1500)),
    );

    let answer = h.messages(ask("openai/gpt-4.1", true)).await;

    let message = answer.anthropic_error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error");
    assert_eq!(message, "Rate limit exceeded");
    assert_eq!(answer.header("retry-after"), Some("2"));
}

#[actix_web::test]
async fn a_rejected_upstream_key_is_401_and_never_echoed() {
    let h = Harness::new().await;
    h.fake
        .push(ANTHROPIC_PATH, anthropic::authentication_error());

    let answer = h.messages(ask("sonnet", false)).await;

    let message = answer.anthropic_error(StatusCode::UNAUTHORIZED, "authentication_error");
    assert_eq!(message, "Authentication failed - check your API key");
    assert!(!answer.text().contains(super::TEST_KEY));
}

#[actix_web::test]
async fn an_overloaded_upstream_is_503_overloaded_error() {
    let h = Harness::new().await;
    h.fake.push(ANTHROPIC_PATH, anthropic::overloaded());

    let answer = h.messages(ask("sonnet", false)).await;

    answer.anthropic_error(StatusCode::SERVICE_UNAVAILABLE, "overloaded_error");
}

#[actix_web::test]
async fn a_wrong_field_type_is_400_naming_the_field() {
    let h = Harness::new().await;
    let mut body = ask("sonnet", false);
    body["max_tokens"] = json!("lots");

    let answer = h.messages(body).await;

    let message = answer.anthropic_error(StatusCode::BAD_REQUEST, "invalid_request_error");
    assert!(message.starts_with("max_tokens: "), "{message}");
    assert!(h.fake.requests().is_empty());
}

#[actix_web::test]
async fn a_missing_field_and_malformed_json_are_400_invalid_request_error() {
    let h = Harness::new().await;
    let answer = h
        .messages(json!({"model": "sonnet", "max_tokens": 5}))
        .await;
    let message = answer.anthropic_error(StatusCode::BAD_REQUEST, "invalid_request_error");
    assert_eq!(message, "messages: field required");

    let answer = h.messages_raw("{\"model\": \"sonnet\",").await;
    let message = answer.anthropic_error(StatusCode::BAD_REQUEST, "invalid_request_error");
    assert!(message.contains("not valid JSON"), "{message}");

    let bad_block = json!({
        "model": "sonnet", "max_tokens": 5,
        "messages": [{"role": "user", "content": [{"type": "hologram"}]}],
    });
    let answer = h.messages(bad_block).await;
    let message = answer.anthropic_error(StatusCode::BAD_REQUEST, "invalid_request_error");
    assert!(
        message.starts_with("messages[0].content[0].type: "),
        "{message}"
    );
}

#[actix_web::test]
async fn an_oversize_body_is_413_request_too_large() {
    let h = Harness::new().await;
    let limit = h.state.config.server.body_limit_bytes;
    let mut body = ask("sonnet", false);
    body["messages"][0]["content"] = json!("x".repeat(limit + 1));

    let answer = h.messages(body).await;

    answer.anthropic_error(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large");
}
