//! Anthropic's SSE stream (PROTOCOLS.md §1.5) to unified stream events.

use std::collections::HashSet;

use serde_json::Value;

use super::error::from_type;
use super::json::{str_at, u64_at};
use super::mapping::{stop_reason_from_wire, WireUsage};
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{JsonObject, StreamEvent, ThinkingDelta};
use crate::provider::sse::{SseDecoder, SseEvent};
use crate::provider::StreamDecode;

/// The event types this decoder acts on; for these, data that is not JSON is a broken stream.
const KNOWN_EVENTS: &[&str] = &[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "error",
];

/// Decodes an Anthropic streamed body into [`StreamEvent`]s, with `index` = Anthropic's block
/// index.
///
/// Usage is emitted after `message_start` and after every `message_delta`, each time the whole
/// cumulative count (a `message_delta` that omits the input counts keeps those of
/// `message_start`). `Stop` follows the `message_delta` that carries a stop reason. Only
/// `message_stop` proves the stream complete: a body that ends without it (and without an `error`
/// event) ends with an `Upstream` error. After the stop reason, content and a second stop reason
/// are ignored (only usage may still change), and so is a second `message_start`. `ping`,
/// `content_block_stop`, citation deltas and unknown events produce nothing. Nothing is emitted after an error or `message_stop`.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    sse: SseDecoder,
    usage: WireUsage,
    /// Indexes of blocks Moxxy does not model (server tool calls and results, newer types):
    /// their deltas are skipped too, so they cannot turn into nameless tool calls.
    skipped_blocks: HashSet<u32>,
    /// `message_stop` or an error was seen: the stream is over.
    ended: bool,
    /// A `message_delta` gave the stop reason: the answer is over, only usage may still change.
    stopped: bool,
    /// `message_start` was seen: a second one (a broken relay) is not a second answer.
    started: bool,
}

impl StreamDecoder {
    /// A decoder for one response body.
    pub fn new() -> Self {
        Self::default()
    }

    fn handle(&mut self, sse: SseEvent, out: &mut Vec<StreamEvent>) {
        let data = sse.data.trim();
        // Keep-alives some relays send as data (PROTOCOLS.md §4.5, rule 9).
        if self.ended || data.is_empty() || data.starts_with(':') {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(data) else {
            if KNOWN_EVENTS.contains(&sse.event.as_str()) {
                self.fail(
                    ProviderError::new(
                        ErrorKind::Upstream,
                        format!(
                            "Anthropic sent a '{}' event that is not valid JSON",
                            sse.event
                        ),
                    ),
                    out,
                );
            }
            return;
        };
        let kind = str_at(&value, "type").unwrap_or(sse.event.as_str());
        let index = u64_at(&value, "index")
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(0);
        match kind {
            // After the stop reason (a broken relay) only usage, the end or an error count:
            // content or a (late) message_start is not part of this answer.
            "message_start" | "content_block_start" | "content_block_delta" if self.stopped => {}
            "message_start" => self.message_start(&value, out),
            "content_block_start" => {
                let block = value.get("content_block").unwrap_or(&Value::Null);
                if !block_start(index, block, out) {
                    self.skipped_blocks.insert(index);
                }
            }
            "content_block_delta" if !self.skipped_blocks.contains(&index) => {
                if let Some(delta) = value.get("delta") {
                    block_delta(index, delta, out);
                }
            }
            "message_delta" => self.message_delta(&value, out),
            "message_stop" => self.ended = true,
            "error" => {
                let error = value.get("error").unwrap_or(&Value::Null);
                let message = str_at(error, "message").unwrap_or("Anthropic stream error");
                let kind = str_at(error, "type").unwrap_or("api_error");
                self.fail(from_type(kind, message), out);
            }
            _ => {} // ping, content_block_stop and event types added after this was written
        }
    }

    fn message_start(&mut self, value: &Value, out: &mut Vec<StreamEvent>) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        let message = value.get("message").unwrap_or(&Value::Null);
        out.push(StreamEvent::Start {
            id: str_at(message, "id").unwrap_or_default().to_string(),
            model: str_at(message, "model").unwrap_or_default().to_string(),
        });
        if let Some(usage) = message.get("usage").filter(|u| u.is_object()) {
            self.usage.update(usage);
            out.push(StreamEvent::Usage(self.usage.to_unified()));
        }
    }

    fn message_delta(&mut self, value: &Value, out: &mut Vec<StreamEvent>) {
        if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
            self.usage.update(usage);
            out.push(StreamEvent::Usage(self.usage.to_unified()));
        }
        let delta = value.get("delta").unwrap_or(&Value::Null);
        if let Some(reason) = str_at(delta, "stop_reason").filter(|_| !self.stopped) {
            self.stopped = true;
            out.push(StreamEvent::Stop {
                reason: stop_reason_from_wire(reason),
                stop_sequence: str_at(delta, "stop_sequence").map(str::to_string),
            });
        }
    }

    fn fail(&mut self, error: ProviderError, out: &mut Vec<StreamEvent>) {
        self.ended = true;
        out.push(StreamEvent::Error(error));
    }
}

/// A block's opening. Its initial content is usually empty; whatever it holds is emitted (a
/// redacted block arrives whole here, and relays may send a tool call's input at once). Returns
/// whether the block type is one Moxxy models.
fn block_start(index: u32, block: &Value, out: &mut Vec<StreamEvent>) -> bool {
    let non_empty = |key| str_at(block, key).filter(|s| !s.is_empty());
    match str_at(block, "type") {
        Some("text") => {
            if let Some(text) = non_empty("text") {
                out.push(StreamEvent::TextDelta {
                    index,
                    text: text.to_string(),
                });
            }
        }
        Some("thinking") => {
            if let Some(text) = non_empty("thinking") {
                push_thinking(index, ThinkingDelta::Text(text.to_string()), out);
            }
            if let Some(signature) = non_empty("signature") {
                push_thinking(index, ThinkingDelta::Signature(signature.to_string()), out);
            }
        }
        Some("redacted_thinking") => {
            let data = str_at(block, "data").unwrap_or_default().to_string();
            push_thinking(index, ThinkingDelta::Redacted(data), out);
        }
        Some("tool_use") => {
            let arguments = match block.get("input") {
                Some(Value::Object(input)) if !input.is_empty() => {
                    Value::Object(input.clone()).to_string()
                }
                _ => String::new(),
            };
            out.push(StreamEvent::ToolCallDelta {
                index,
                id: Some(str_at(block, "id").unwrap_or_default().to_string()),
                name: Some(str_at(block, "name").unwrap_or_default().to_string()),
                arguments,
                extra: JsonObject::new(),
            });
        }
        _ => return false, // server tool blocks and newer types
    }
    true
}

fn block_delta(index: u32, delta: &Value, out: &mut Vec<StreamEvent>) {
    let field = |key| {
        str_at(delta, key)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match str_at(delta, "type") {
        Some("text_delta") => {
            if let Some(text) = field("text") {
                out.push(StreamEvent::TextDelta { index, text });
            }
        }
        Some("input_json_delta") => {
            if let Some(arguments) = field("partial_json") {
                out.push(StreamEvent::ToolCallDelta {
                    index,
                    id: None,
                    name: None,
                    arguments,
                    extra: JsonObject::new(),
                });
            }
        }
        Some("thinking_delta") => {
            if let Some(text) = field("thinking") {
                push_thinking(index, ThinkingDelta::Text(text), out);
            }
        }
        Some("signature_delta") => {
            if let Some(signature) = field("signature") {
                push_thinking(index, ThinkingDelta::Signature(signature), out);
            }
        }
        _ => {} // citations_delta (citations are kept only in non-streamed answers) and newer
    }
}

fn push_thinking(index: u32, delta: ThinkingDelta, out: &mut Vec<StreamEvent>) {
    out.push(StreamEvent::ThinkingDelta { index, delta });
}

impl StreamDecode for StreamDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<StreamEvent>) {
        let mut events = Vec::new();
        self.sse.feed(bytes, &mut events);
        for event in events {
            self.handle(event, out);
        }
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        let mut events = Vec::new();
        self.sse.finish(&mut events);
        for event in events {
            self.handle(event, out);
        }
        if !self.ended {
            self.fail(
                ProviderError::new(
                    ErrorKind::Upstream,
                    "the stream from Anthropic ended before message_stop (truncated answer)",
                ),
                out,
            );
        }
    }
}
