//! `decode_error` (Anthropic's error answers) and `encode_error` (Moxxy's answers to Anthropic
//! clients).

use moxxy_actors::provider::anthropic::{decode_error, encode_error};
use moxxy_actors::{ErrorKind, ProviderError};
use serde_json::json;

fn body(kind: &str, message: &str) -> Vec<u8> {
    json!({"type": "error", "error": {"type": kind, "message": message},
           "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
    .to_string()
    .into_bytes()
}

#[test]
fn rejected_keys_give_the_documented_authentication_message() {
    for (status, kind) in [(401, "authentication_error"), (403, "permission_error")] {
        let err = decode_error(status, &body(kind, "invalid x-api-key"), "claude-x");
        assert_eq!(err.kind, ErrorKind::Authentication);
        assert_eq!(err.message, "Authentication failed - check your API key");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.upstream_type.as_deref(), Some(kind));
        assert_eq!(
            err.request_id.as_deref(),
            Some("req_011CSHoEeqs5C35K2UUqR7Fy")
        );
        assert!(!err.is_retryable());
    }
}

#[test]
fn a_404_about_the_model_is_model_not_found_and_others_are_not_found() {
    let err = decode_error(
        404,
        &body("not_found_error", "model: claude-nope"),
        "claude-nope",
    );
    assert_eq!(err.kind, ErrorKind::ModelNotFound);
    assert_eq!(err.message, "Model 'claude-nope' not found");
    assert_eq!(err.status, Some(404));
    assert_eq!(err.upstream_type.as_deref(), Some("not_found_error"));

    let err = decode_error(
        404,
        &body("not_found_error", "File file_1 not found"),
        "claude-x",
    );
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "File file_1 not found");
}

#[test]
fn statuses_map_to_their_kinds() {
    let cases = [
        (
            400,
            "invalid_request_error",
            ErrorKind::InvalidRequest,
            "messages: bad",
            false,
        ),
        (402, "billing_error", ErrorKind::Billing, "no credit", false),
        (
            413,
            "request_too_large",
            ErrorKind::RequestTooLarge,
            "too big",
            false,
        ),
        (
            429,
            "rate_limit_error",
            ErrorKind::RateLimited,
            "Rate limit exceeded",
            true,
        ),
        (500, "api_error", ErrorKind::Upstream, "internal", true),
        (504, "timeout_error", ErrorKind::Timeout, "slow", true),
        (
            529,
            "overloaded_error",
            ErrorKind::Overloaded,
            "Overloaded",
            true,
        ),
        (503, "api_error", ErrorKind::Upstream, "unavailable", true),
        (
            422,
            "invalid_request_error",
            ErrorKind::InvalidRequest,
            "odd",
            false,
        ),
    ];
    for (status, kind, expected, message, retryable) in cases {
        let upstream_message = if status == 429 {
            "per-minute limit"
        } else {
            message
        };
        let err = decode_error(status, &body(kind, upstream_message), "m");
        assert_eq!(err.kind, expected, "{status}");
        assert_eq!(err.message, message, "{status}");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.upstream_type.as_deref(), Some(kind));
        assert_eq!(
            err.request_id.as_deref(),
            Some("req_011CSHoEeqs5C35K2UUqR7Fy")
        );
        assert_eq!(err.is_retryable(), retryable, "{status}");
    }
}

#[test]
fn a_spend_limit_429_is_billing_and_not_retried() {
    let body = json!({"type": "error", "error": {"type": "rate_limit_error", "message": "spend limit",
                      "details": {"error_code": "enforced_spend_limit_reached"}}});
    let err = decode_error(429, body.to_string().as_bytes(), "m");
    assert_eq!(err.kind, ErrorKind::Billing);
    assert!(!err.is_retryable());
}

#[test]
fn an_html_body_is_summarised_not_dumped() {
    let page = format!(
        "<!DOCTYPE html><html><head><title>502 Bad Gateway | Cloudflare</title></head><body>{}</body></html>",
        "<div>noise</div>".repeat(2000)
    );
    let err = decode_error(502, page.as_bytes(), "m");
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(err.message.contains("502"), "{}", err.message);
    assert!(err.message.contains("Bad Gateway"), "{}", err.message);
    assert!(err.message.len() < 300, "{}", err.message);
    assert!(!err.message.contains("<div>"));
    assert_eq!(err.status, Some(502));
    assert_eq!(err.upstream_type.as_deref(), Some("api_error"));

    let err = decode_error(413, "x".repeat(5000).as_bytes(), "m");
    assert_eq!(err.kind, ErrorKind::RequestTooLarge);
    assert!(err.message.len() < 300);
    assert_eq!(err.upstream_type.as_deref(), Some("request_too_large"));

    let err = decode_error(529, b"", "m");
    assert_eq!(err.kind, ErrorKind::Overloaded);
    assert!(err.message.contains("529"));
}

#[test]
fn encode_error_writes_anthropic_error_bodies() {
    let cases = [
        (ProviderError::authentication(), "authentication_error"),
        (ProviderError::rate_limited(None), "rate_limit_error"),
        (ProviderError::model_not_found("x"), "not_found_error"),
        (
            ProviderError::new(ErrorKind::Overloaded, "busy"),
            "overloaded_error",
        ),
        (
            ProviderError::new(ErrorKind::InvalidRequest, "bad"),
            "invalid_request_error",
        ),
        (
            ProviderError::new(ErrorKind::Timeout, "slow"),
            "timeout_error",
        ),
        (
            ProviderError::ollama_unreachable("http://127.0.0.1:11434"),
            "api_error",
        ),
        (
            ProviderError::no_credentials("anthropic", Some("ANTHROPIC_API_KEY")),
            "authentication_error",
        ),
    ];
    for (err, kind) in cases {
        assert_eq!(
            encode_error(&err),
            json!({"type": "error", "error": {"type": kind, "message": err.message}})
        );
    }
    let mut err = ProviderError::new(ErrorKind::Upstream, "boom");
    err.request_id = Some("req_1".into());
    assert_eq!(encode_error(&err)["request_id"], "req_1");
}
