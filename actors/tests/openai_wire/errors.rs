//! Error bodies, both ways.

use moxxy_actors::provider::openai::{decode_error, encode_error};
use moxxy_actors::{ErrorKind, ProviderError};
use serde_json::json;

#[test]
fn openai_errors_keep_message_param_and_code() {
    let body = br#"{"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}"#;
    let e = decode_error(400, body, "o3");
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.starts_with("Unsupported parameter: 'max_tokens'"));
    assert_eq!(e.param.as_deref(), Some("max_tokens"));
    assert_eq!(e.upstream_type.as_deref(), Some("unsupported_parameter"));
    assert_eq!(e.status, Some(400));

    let e = decode_error(401, br#"{"error":{"message":"Incorrect API key provided: sk-abc***wxyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#, "gpt-4.1");
    assert_eq!(
        e,
        ProviderError {
            status: Some(401),
            upstream_type: Some("invalid_api_key".into()),
            ..ProviderError::authentication()
        }
    );
    assert!(
        !e.message.contains("sk-abc"),
        "the echoed key is not passed on"
    );

    let e = decode_error(404, br#"{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#, "gpt-9");
    assert_eq!(e.kind, ErrorKind::ModelNotFound);
    assert_eq!(e.message, "Model 'gpt-9' not found");
    assert_eq!(
        decode_error(404, b"{\"error\":{\"message\":\"No such route\"}}", "m").kind,
        ErrorKind::NotFound
    );
}

#[test]
fn quota_429s_are_billing_and_other_429s_rate_limits() {
    for body in [
        &br#"{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#[..],
        br#"{"error":{"message":"Credit balance exhausted","type":"invalid_request_error","code":"credit_balance_exhausted"}}"#,
    ] {
        let e = decode_error(429, body, "gpt-4.1");
        assert_eq!(e.kind, ErrorKind::Billing);
        assert!(!e.is_retryable());
    }
    let e = decode_error(429, br#"{"error":{"message":"Rate limit reached. Please try again in 1.2s.","type":"tokens","code":"rate_limit_exceeded"}}"#, "gpt-4.1");
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.message, "Rate limit exceeded");
    assert!(e.is_retryable());
    assert_eq!(
        decode_error(
            402,
            b"{\"error\":{\"message\":\"Insufficient Balance\"}}",
            "m"
        )
        .kind,
        ErrorKind::Billing
    );
}

#[test]
fn xai_string_errors_about_the_key_are_authentication() {
    let body = br#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***. You can obtain an API key from https://console.x.ai."}"#;
    let e = decode_error(400, body, "grok-4");
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert_eq!(e.message, "Authentication failed - check your API key");
    let other = br#"{"code":"invalid-argument","error":"Model grok-9 does not support stop"}"#;
    let e = decode_error(400, other, "grok-9");
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert_eq!(e.message, "Model grok-9 does not support stop");
    assert_eq!(e.upstream_type.as_deref(), Some("invalid-argument"));
}

#[test]
fn gemini_errors_plain_and_array_wrapped() {
    let inner = json!({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}});
    for body in [inner.to_string(), json!([inner]).to_string()] {
        let e = decode_error(429, body.as_bytes(), "gemini-2.5-pro");
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.upstream_type.as_deref(), Some("RESOURCE_EXHAUSTED"));
    }
    let bad = br#"[{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"foo\"","status":"INVALID_ARGUMENT"}}]"#;
    let e = decode_error(400, bad, "gemini-2.5-pro");
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.starts_with("Invalid JSON payload received"));
    let e = decode_error(
        503,
        br#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
        "g",
    );
    assert_eq!(e.kind, ErrorKind::Overloaded);
}

#[test]
fn html_and_raw_text_bodies_are_summarised() {
    let page = format!(
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "x".repeat(50_000)
    );
    let e = decode_error(502, page.as_bytes(), "m");
    assert_eq!(e.kind, ErrorKind::Upstream);
    assert!(e.message.contains("502 Bad Gateway"), "{}", e.message);
    assert!(e.message.len() < 300);
    let long = "y".repeat(5_000);
    let e = decode_error(500, long.as_bytes(), "m");
    assert!(e.message.chars().count() <= 201);
    assert_eq!(decode_error(504, b"", "m").kind, ErrorKind::Timeout);
    assert_eq!(decode_error(503, b"busy", "m").kind, ErrorKind::Overloaded);
    assert_eq!(
        decode_error(422, b"{\"error\":{\"message\":\"bad\"}}", "m").kind,
        ErrorKind::InvalidRequest
    );
}

#[test]
fn encode_error_has_the_openai_shape() {
    let mut e = ProviderError::new(
        ErrorKind::InvalidRequest,
        "messages[2].role: expected one of …",
    );
    e.param = Some("messages[2].role".into());
    let body = encode_error(&e);
    assert_eq!(
        body,
        json!({"error": {"message": "messages[2].role: expected one of …", "type": "invalid_request_error",
                         "param": "messages[2].role", "code": null}})
    );
    let body = encode_error(&ProviderError::model_not_found("gpt-9"));
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["param"], serde_json::Value::Null);
    let mut upstream = ProviderError::new(ErrorKind::InvalidRequest, "Unsupported parameter");
    upstream.upstream_type = Some("unsupported_parameter".into());
    assert_eq!(
        encode_error(&upstream)["error"]["code"],
        "unsupported_parameter"
    );
}
