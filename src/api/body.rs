//! Request bodies: read with a size limit, parsed as JSON with errors that name the field.

use actix_web::web;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::body_timeout::BodyTimeout;
use super::ApiError;

/// Reads the whole body, refusing (413) one over `limit` bytes without reading the rest, and
/// (408) one that did not arrive within the server's body timeout ([`super::body_timeout`]).
pub async fn read_limited(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match BodyTimeout::of(&e) {
            Some(timeout) => ApiError::new(
                actix_web::http::StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                timeout.to_string(),
            )
            .with_code("request_timeout"),
            None => ApiError::bad_request(format!("The request body could not be read: {e}")),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses `body` as a JSON object into `T`. Malformed JSON is a 400 saying where; a body that is
/// not an object, or has a wrong, missing or unknown field, is a 422 naming the field and what
/// it expects.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "The request body is empty - send a JSON object",
        ));
    }
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::bad_request(
            "The request body is not valid UTF-8 - send a JSON object",
        ));
    }
    // Every body of the API is an object. serde would also read a struct from an array of its
    // fields in order (`["name", ["read"]]`), and name the Rust type in its errors.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request_error",
            "The request body must be a JSON object ({\"field\": value, ...})",
        )
        .with_code("invalid_value"));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(field_error)?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    Ok(value)
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::bad_request(format!("The request body is not valid JSON: {inner}"));
    }
    if path == "." {
        return ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request_error",
            describe(&inner),
        )
        .with_code("invalid_value");
    }
    let message = format!("{path}: {}", describe(&inner));
    ApiError::unprocessable(&path, message)
}

/// For PATCH bodies: tells a field that is absent (outer `None`) from one that is `null`
/// (`Some(None)`, which clears it).
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Reads and parses a JSON body in one step.
pub async fn json<T: DeserializeOwned>(payload: web::Payload, limit: usize) -> Result<T, ApiError> {
    let body = read_limited(payload, limit).await?;
    parse_json(&body)
}

/// serde's message, without the " at line 1 column 9" suffix that means nothing to an API user.
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
