//! Ollama's error bodies (PROTOCOLS.md §3.6, §5 error class), both directions.

use moxxy_actors::provider::ollama::{decode_error, encode_error};
use moxxy_actors::{ErrorKind, ProviderError};
use serde_json::json;

#[test]
fn statuses_map_to_kinds() {
    let cases = [
        (
            400,
            br#"{"error":"\"llama3\" does not support tools"}"#.as_slice(),
            ErrorKind::InvalidRequest,
        ),
        (
            401,
            br#"{"error":"unauthorized"}"#,
            ErrorKind::Authentication,
        ),
        (403, br#"{"error":"forbidden"}"#, ErrorKind::Authentication),
        (
            404,
            br#"{"error":"model \"llama3\" not found, try pulling it first"}"#,
            ErrorKind::ModelNotFound,
        ),
        (
            404,
            br#"{"error":"model 'llama3' not found"}"#,
            ErrorKind::ModelNotFound,
        ),
        (404, b"404 page not found", ErrorKind::NotFound),
        (
            429,
            br#"{"error":"too many requests"}"#,
            ErrorKind::RateLimited,
        ),
        (
            499,
            br#"{"error":"context canceled"}"#,
            ErrorKind::Cancelled,
        ),
        (
            500,
            br#"{"error":"llama runner process has terminated"}"#,
            ErrorKind::Upstream,
        ),
        (502, b"<html>Bad Gateway</html>", ErrorKind::Upstream),
        (
            503,
            br#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#,
            ErrorKind::Overloaded,
        ),
    ];
    for (status, body, kind) in cases {
        let err = decode_error(status, body, "llama3");
        assert_eq!(err.kind, kind, "{status} {}", String::from_utf8_lossy(body));
        assert_eq!(err.status, Some(status));
    }
}

#[test]
fn messages_follow_the_documented_wording_or_keep_ollamas() {
    let err = decode_error(
        400,
        br#"{"error":"\"llama3\" does not support tools"}"#,
        "llama3",
    );
    assert_eq!(err.message, "\"llama3\" does not support tools");
    let err = decode_error(
        404,
        br#"{"error":"model \"llama3\" not found, try pulling it first"}"#,
        "llama3",
    );
    assert_eq!(
        err,
        ProviderError {
            status: Some(404),
            ..ProviderError::model_not_found("llama3")
        }
    );
    assert_eq!(err.message, "Model 'llama3' not found");
    let err = decode_error(401, b"", "m");
    assert_eq!(err.message, "Authentication failed - check your API key");
    let err = decode_error(429, b"", "m");
    assert_eq!(err.message, "Rate limit exceeded");
    let err = decode_error(
        500,
        br#"{"error":"llama runner process has terminated"}"#,
        "m",
    );
    assert!(
        err.message.contains("llama runner process has terminated"),
        "{}",
        err.message
    );
    assert!(err.message.contains("500"), "{}", err.message);
    // Proxies may answer in OpenAI's shape.
    let err = decode_error(
        400,
        br#"{"error":{"message":"bad field","type":"invalid_request_error"}}"#,
        "m",
    );
    assert_eq!(err.message, "bad field");
    let err = decode_error(500, b"", "m");
    assert!(err.message.contains("empty body"), "{}", err.message);
}

#[test]
fn raw_text_bodies_are_cut_short() {
    let page = format!("<html><body>{}</body></html>", "x".repeat(5000));
    let err = decode_error(502, page.as_bytes(), "m");
    assert!(err.message.contains("<html><body>xxx"), "{}", err.message);
    assert!(
        err.message.chars().count() < 300,
        "{} chars",
        err.message.len()
    );
    assert!(err.message.ends_with('…'));
    // Cutting never splits a character.
    let emoji = "🙂".repeat(400);
    let err = decode_error(500, emoji.as_bytes(), "m");
    assert!(err.message.contains(&"🙂".repeat(200)));
    assert!(!err.message.contains(&"🙂".repeat(201)));
}

#[test]
fn encode_error_is_ollamas_shape() {
    let err = ProviderError::model_not_found("llama3");
    assert_eq!(
        encode_error(&err),
        json!({"error": "Model 'llama3' not found"})
    );
}
