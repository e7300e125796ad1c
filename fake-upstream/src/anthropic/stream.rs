//! Anthropic streams (PROTOCOLS.md §1.5): `message_start`, then per content block
//! `content_block_start` / `content_block_delta`... / `content_block_stop`, then
//! `message_delta` (stop reason and cumulative usage) and `message_stop`. One event per chunk.

use bytes::Bytes;
use serde_json::{json, Value};

use super::{error_event, ping_event, Usage, MESSAGE_ID, MODEL};
use crate::frame::sse_event;

/// Builds one stream event by event; blocks get their `index` in the order they are added.
#[derive(Clone, Debug)]
pub struct StreamBuilder {
    events: Vec<Bytes>,
    usage: Usage,
    next_index: usize,
    full_usage_in_delta: bool,
}

impl StreamBuilder {
    /// Starts with `message_start` (input and cache usage, `output_tokens: 1`) and a `ping`.
    pub fn new(model: &str, usage: Usage) -> StreamBuilder {
        let start = json!({
            "type": "message_start",
            "message": {
                "id": MESSAGE_ID,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage.to_json_with_output(1),
            }
        });
        StreamBuilder {
            events: vec![sse_event("message_start", &start), ping_event()],
            usage,
            next_index: 0,
            full_usage_in_delta: false,
        }
    }

    /// Makes `message_delta` repeat the input and cache counts beside `output_tokens` (the
    /// newer API does): a client that adds usage instead of overwriting it double-counts.
    pub fn full_usage_in_delta(mut self) -> StreamBuilder {
        self.full_usage_in_delta = true;
        self
    }

    /// A text block, one `text_delta` per piece.
    pub fn text(self, pieces: &[&str]) -> StreamBuilder {
        let deltas = pieces
            .iter()
            .map(|piece| json!({"type": "text_delta", "text": piece}))
            .collect();
        self.block(json!({"type": "text", "text": ""}), deltas)
    }

    /// A thinking block: one `thinking_delta` per piece, then the `signature_delta`.
    pub fn thinking(self, pieces: &[&str], signature: &str) -> StreamBuilder {
        let mut deltas: Vec<Value> = pieces
            .iter()
            .map(|piece| json!({"type": "thinking_delta", "thinking": piece}))
            .collect();
        deltas.push(json!({"type": "signature_delta", "signature": signature}));
        self.block(json!({"type": "thinking", "thinking": ""}), deltas)
    }

    /// A redacted thinking block: whole in `content_block_start`, no deltas.
    pub fn redacted_thinking(self, data: &str) -> StreamBuilder {
        self.block(
            json!({"type": "redacted_thinking", "data": data}),
            Vec::new(),
        )
    }

    /// A tool_use block: `input: {}` at the start, then an empty `input_json_delta` and one per
    /// fragment (fragments may split the JSON anywhere, even inside a string).
    pub fn tool_use(self, id: &str, name: &str, fragments: &[&str]) -> StreamBuilder {
        let deltas = std::iter::once("")
            .chain(fragments.iter().copied())
            .map(|part| json!({"type": "input_json_delta", "partial_json": part}))
            .collect();
        let start = json!({"type": "tool_use", "id": id, "name": name, "input": {}});
        self.block(start, deltas)
    }

    /// Another `ping` event here.
    pub fn ping(mut self) -> StreamBuilder {
        self.events.push(ping_event());
        self
    }

    /// Any raw chunk here (an unknown event type, a comment, garbage).
    pub fn raw(mut self, chunk: Bytes) -> StreamBuilder {
        self.events.push(chunk);
        self
    }

    /// Ends normally: `message_delta` with `stop_reason` and the usage, then `message_stop`.
    pub fn finish(mut self, stop_reason: &str) -> Vec<Bytes> {
        let usage = if self.full_usage_in_delta {
            self.usage.to_json()
        } else {
            json!({"output_tokens": self.usage.output_tokens})
        };
        let delta = json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": usage,
        });
        self.events.push(sse_event("message_delta", &delta));
        self.events
            .push(sse_event("message_stop", &json!({"type": "message_stop"})));
        self.events
    }

    /// Ends with an in-stream `error` event and no `message_stop` (HTTP status stays 200).
    pub fn fail(mut self, error_type: &str, message: &str) -> Vec<Bytes> {
        self.events.push(error_event(error_type, message));
        self.events
    }

    /// The events so far, with no end at all (a truncated stream).
    pub fn truncated(self) -> Vec<Bytes> {
        self.events
    }

    fn block(mut self, start: Value, deltas: Vec<Value>) -> StreamBuilder {
        let index = self.next_index;
        self.next_index += 1;
        let start = json!({"type": "content_block_start", "index": index, "content_block": start});
        self.events.push(sse_event("content_block_start", &start));
        for delta in deltas {
            let event = json!({"type": "content_block_delta", "index": index, "delta": delta});
            self.events.push(sse_event("content_block_delta", &event));
        }
        let stop = json!({"type": "content_block_stop", "index": index});
        self.events.push(sse_event("content_block_stop", &stop));
        self
    }
}

/// A text answer streamed as `pieces` (`stop_reason: "end_turn"`); output tokens = pieces.
pub fn stream_text(model: &str, pieces: &[&str]) -> Vec<Bytes> {
    let usage = Usage::new(12, pieces.len() as u64);
    StreamBuilder::new(model, usage)
        .text(pieces)
        .finish("end_turn")
}

/// The reference stream of §1.5: signed thinking, text, then a `get_weather` tool call whose
/// input `{"city": "Paris"}` is split inside a string (`stop_reason: "tool_use"`).
pub fn stream_thinking_text_tool(model: &str) -> Vec<Bytes> {
    StreamBuilder::new(model, Usage::new(512, 89))
        .thinking(
            &["Need the weather; ", "call get_weather."],
            "EqQBCkYIBxgCKkB",
        )
        .text(&["Checking ", "Paris."])
        .tool_use("toolu_01T1", "get_weather", &["{\"city\": \"Pa", "ris\"}"])
        .finish("tool_use")
}

impl Default for StreamBuilder {
    /// A builder for [`MODEL`] with small usage.
    fn default() -> StreamBuilder {
        StreamBuilder::new(MODEL, Usage::new(12, 6))
    }
}
