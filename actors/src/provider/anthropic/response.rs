//! Non-streamed answers: Anthropic's Message object to a unified response (upstream direction)
//! and back (client direction).

use serde_json::{json, Value};

use super::blocks::{self, decode_block, Decoded, Extras};
use super::error::decode_error;
use super::json::{excerpt, new_id, str_at};
use super::mapping::{stop_reason_from_wire, stop_reason_to_wire, WireUsage};
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{ChatResponse, ContentPart, StopReason, Usage};

/// Parses an Anthropic Message. Unknown fields are ignored and content blocks Moxxy does not
/// model (server tool blocks, …) are skipped; text keeps its `citations` in `extra`. A missing
/// `stop_reason` (never sent by Anthropic) becomes `Other("unknown")`; missing usage stays `None`.
/// The `request_id` is left to the transport, which has the header.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, ProviderError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        let text = String::from_utf8_lossy(body);
        ProviderError::new(
            ErrorKind::Upstream,
            format!(
                "Anthropic returned a response that is not JSON: {}",
                excerpt(&text, 200)
            ),
        )
    })?;
    if str_at(&value, "type") == Some("error") {
        return Err(decode_error(200, body, ""));
    }
    if !value.is_object() {
        return Err(ProviderError::new(
            ErrorKind::Upstream,
            "Anthropic returned JSON that is not a Message object",
        ));
    }
    let content = value
        .get("content")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|block| match decode_block(block, "content") {
                    Ok(Decoded::Part(part)) => Some(part),
                    Ok(Decoded::Unknown(_)) | Err(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ChatResponse {
        id: str_at(&value, "id")
            .map(str::to_string)
            .unwrap_or_else(|| new_id("msg_")),
        model: str_at(&value, "model").unwrap_or_default().to_string(),
        content,
        stop_reason: str_at(&value, "stop_reason")
            .map(stop_reason_from_wire)
            .unwrap_or_else(|| StopReason::Other("unknown".into())),
        stop_sequence: str_at(&value, "stop_sequence").map(str::to_string),
        usage: value
            .get("usage")
            .filter(|u| u.is_object())
            .map(|u| WireUsage::from_value(u).to_unified()),
        request_id: None,
    })
}

/// An Anthropic Message for a client of Moxxy's `/v1/messages`.
///
/// - The id gets a `msg_` prefix when it lacks one (Anthropic clients may check it).
/// - Thinking without a signature (from another provider) is sent with `"signature": ""`, so the
///   client sees the reasoning and the SDKs' required field is present; an empty signature is
///   never replayed to Anthropic (see `encode_request`).
/// - Tool-call arguments that are not a JSON object are sent as `{}`: `input` must be an object,
///   and such arguments (invalid JSON from another model) could not be run anyway.
/// - Missing usage is sent as zeros, since the field is required.
pub fn encode_response(resp: &ChatResponse) -> Value {
    let content: Vec<Value> = resp.content.iter().filter_map(encode_part).collect();
    let usage = WireUsage::from_unified(&resp.usage.unwrap_or_default());
    json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": content,
        "stop_reason": stop_reason_to_wire(&resp.stop_reason),
        "stop_sequence": resp.stop_sequence,
        "usage": usage.to_json(),
    })
}

/// An answer's part as a block; parts that cannot be in an answer (images, tool results) have
/// none.
pub(super) fn encode_part(part: &ContentPart) -> Option<Value> {
    match part {
        ContentPart::Text { text, extra } => {
            Some(blocks::text_block(text, extra, Extras::Portable))
        }
        ContentPart::Thinking { text, signature } => Some(blocks::thinking_block(
            text,
            signature.as_deref().unwrap_or_default(),
        )),
        ContentPart::RedactedThinking { data } => Some(blocks::redacted_block(data)),
        ContentPart::ToolCall {
            id,
            name,
            arguments,
            ..
        } => {
            let input = blocks::tool_input(arguments).unwrap_or_else(|| json!({}));
            Some(blocks::tool_use_block(
                id,
                name,
                input,
                &Default::default(),
                Extras::Portable,
            ))
        }
        ContentPart::Image { .. } | ContentPart::ToolResult { .. } => None,
    }
}

/// `id` with Anthropic's `msg_` prefix; a fresh one when it is empty.
pub(super) fn message_id(id: &str) -> String {
    if id.is_empty() {
        new_id("msg_")
    } else if id.starts_with("msg_") {
        id.to_string()
    } else {
        format!("msg_{id}")
    }
}

/// Usage in Anthropic's form, for stream events.
pub(super) fn usage_json(usage: &Usage) -> Value {
    WireUsage::from_unified(usage).to_json()
}
