//! Wire framing: SSE events and NDJSON lines, each one chunk (one write) of a stream.

use bytes::Bytes;
use serde_json::Value;

/// A named SSE event, `event: NAME\ndata: JSON\n\n` (Anthropic's framing).
pub fn sse_event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// A data-only SSE event, `data: JSON\n\n` (OpenAI's framing).
pub fn sse_data(data: &Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// OpenAI's end of stream, `data: [DONE]\n\n`.
pub fn sse_done() -> Bytes {
    Bytes::from_static(b"data: [DONE]\n\n")
}

/// One NDJSON line, `JSON\n` (Ollama's framing).
pub fn ndjson_line(value: &Value) -> Bytes {
    Bytes::from(format!("{value}\n"))
}
