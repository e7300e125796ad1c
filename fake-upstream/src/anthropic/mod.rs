//! Anthropic Messages API bodies, errors and streams, as the API writes them
//! (PROTOCOLS.md §1.4–1.8).
//!
//! Usage follows the wire: `input_tokens` is the uncached part only, the cache fields are apart.

mod stream;

pub use stream::{stream_text, stream_thinking_text_tool, StreamBuilder};

use bytes::Bytes;
use serde_json::{json, Value};

use crate::frame::sse_event;
use crate::reply::Reply;

/// The model id canned replies report.
pub const MODEL: &str = "claude-sonnet-4-5-20250929";
/// The `request-id` header (and `request_id` in error bodies) of canned replies.
pub const REQUEST_ID: &str = "req_011CSHoEfakeUpstream";
/// The message id of canned replies.
pub const MESSAGE_ID: &str = "msg_01XFDUDYfake";

/// Token counts as Anthropic reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Uncached input tokens only.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// Input and output tokens, no cache.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Usage {
        Usage {
            input_tokens,
            output_tokens,
            ..Usage::default()
        }
    }

    /// The same with cache reads and writes (reported apart from `input_tokens`).
    pub fn with_cache(self, read: u64, creation: u64) -> Usage {
        Usage {
            cache_read_input_tokens: read,
            cache_creation_input_tokens: creation,
            ..self
        }
    }

    /// The `usage` object, with `output_tokens` as given.
    pub(crate) fn to_json_with_output(self, output_tokens: u64) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "output_tokens": output_tokens,
        })
    }

    /// The `usage` object.
    pub fn to_json(self) -> Value {
        self.to_json_with_output(self.output_tokens)
    }
}

/// A `text` content block.
pub fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

/// A `tool_use` content block; `input` is a JSON object.
pub fn tool_use_block(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "tool_use", "id": id, "name": name, "input": input})
}

/// A `thinking` content block with its opaque signature.
pub fn thinking_block(thinking: &str, signature: &str) -> Value {
    json!({"type": "thinking", "thinking": thinking, "signature": signature})
}

/// A `redacted_thinking` content block (opaque data, to be replayed as is).
pub fn redacted_thinking_block(data: &str) -> Value {
    json!({"type": "redacted_thinking", "data": data})
}

/// A complete non-streamed Message with any content blocks and stop reason.
pub fn message_with(model: &str, content: Vec<Value>, stop_reason: &str, usage: Usage) -> Value {
    json!({
        "id": MESSAGE_ID,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": usage.to_json(),
    })
}

/// A plain text answer (`stop_reason: "end_turn"`).
pub fn message(text: &str, usage: Usage) -> Value {
    message_with(MODEL, vec![text_block(text)], "end_turn", usage)
}

/// An answer that calls a tool: optional text, then one `tool_use` (`stop_reason: "tool_use"`).
pub fn tool_use_message(text: &str, id: &str, name: &str, input: Value, usage: Usage) -> Value {
    let mut content = Vec::new();
    if !text.is_empty() {
        content.push(text_block(text));
    }
    content.push(tool_use_block(id, name, input));
    message_with(MODEL, content, "tool_use", usage)
}

/// An answer with a signed `thinking` block, a `redacted_thinking` block, then text.
pub fn thinking_message(
    thinking: &str,
    signature: &str,
    redacted: &str,
    text: &str,
    usage: Usage,
) -> Value {
    let content = vec![
        thinking_block(thinking, signature),
        redacted_thinking_block(redacted),
        text_block(text),
    ];
    message_with(MODEL, content, "end_turn", usage)
}

/// A 200 JSON reply with Anthropic's `request-id` header.
pub fn reply(body: Value) -> Reply {
    Reply::json(200, body).header("request-id", REQUEST_ID)
}

/// The `GET /v1/models` page listing `ids` (newest first), no more pages.
pub fn models(ids: &[&str]) -> Value {
    models_page(ids, false)
}

/// One `GET /v1/models` page listing `ids`; with `has_more`, the client should ask again with
/// `after_id` set to the last of them.
pub fn models_page(ids: &[&str], has_more: bool) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({
                "type": "model",
                "id": id,
                "display_name": id,
                "created_at": "2025-09-29T00:00:00Z",
            })
        })
        .collect();
    json!({
        "data": data,
        "has_more": has_more,
        "first_id": ids.first(),
        "last_id": ids.last(),
    })
}

/// The error body: `{"type":"error","error":{"type","message"},"request_id"}`.
pub fn error_body(error_type: &str, message: &str) -> Value {
    json!({
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": REQUEST_ID,
    })
}

/// An error reply with any status and `error.type`.
pub fn error(status: u16, error_type: &str, message: &str) -> Reply {
    Reply::json(status, error_body(error_type, message)).header("request-id", REQUEST_ID)
}

/// 401 `authentication_error`, as for a bad `x-api-key`.
pub fn authentication_error() -> Reply {
    error(401, "authentication_error", "invalid x-api-key")
}

/// 404 `not_found_error` for an unknown model.
pub fn not_found(model: &str) -> Reply {
    error(404, "not_found_error", &format!("model: {model}"))
}

/// 429 `rate_limit_error` with `retry-after: SECONDS`.
pub fn rate_limited(retry_after_secs: u64) -> Reply {
    let message = "Number of request tokens has exceeded your per-minute rate limit";
    error(429, "rate_limit_error", message).header("retry-after", &retry_after_secs.to_string())
}

/// 529 `overloaded_error` (Anthropic-wide, retryable).
pub fn overloaded() -> Reply {
    error(529, "overloaded_error", "Overloaded")
}

/// 500 `api_error`.
pub fn api_error() -> Reply {
    error(500, "api_error", "Internal server error")
}

/// The in-stream error event (after HTTP 200): `event: error`.
pub fn error_event(error_type: &str, message: &str) -> Bytes {
    let data = json!({"type": "error", "error": {"type": error_type, "message": message}});
    sse_event("error", &data)
}

/// A `ping` event (to be ignored by clients, at any point and any count).
pub fn ping_event() -> Bytes {
    sse_event("ping", &json!({"type": "ping"}))
}
