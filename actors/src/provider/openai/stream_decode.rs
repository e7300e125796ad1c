//! Upstream → Moxxy: a Chat Completions SSE stream to [`StreamEvent`]s.
//!
//! Content parts are numbered in the order they first appear: the reasoning part, the text part
//! and one part per tool call. Tool-call fragments are assembled by their `index`, never by
//! "the latest call" (PITFALLS: parallel tool calls); Gemini's fragments without `index` get a
//! slot per new `id`, or a new slot when a fragment holds a whole call without an id.

use serde_json::Value;

use super::dialect::Dialect;
use super::error::error_in_value;
use super::types::{
    generate_id, map_finish, Finish, WireCompletion, WireToolCall, CAPACITY_MESSAGE,
};
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{StopReason, StreamEvent, ThinkingDelta};
use crate::provider::sse::{SseDecoder, SseEvent};
use crate::provider::StreamDecode;

/// The message when a stream ends with neither `[DONE]` nor a `finish_reason`.
const TRUNCATED: &str = "the stream from the upstream ended before it finished";

/// Decodes one streamed answer. Feed it the body as it arrives.
#[derive(Debug)]
pub struct StreamDecoder {
    sse: SseDecoder,
    /// Kept for dialect-specific handling; every quirk handled so far is safe on all dialects.
    _dialect: Dialect,
    model: String,
    started: bool,
    /// A `finish_reason` was seen (and `Stop` emitted).
    stopped: bool,
    /// `[DONE]` was seen.
    done: bool,
    /// An error was emitted; the rest of the body is ignored.
    failed: bool,
    next_part: u32,
    thinking_part: Option<u32>,
    text_part: Option<u32>,
    tools: Vec<ToolSlot>,
}

/// One tool call being assembled.
#[derive(Debug)]
struct ToolSlot {
    /// The upstream's `index`, when it gave one.
    wire_index: Option<u64>,
    id: String,
    part: u32,
}

impl StreamDecoder {
    pub fn new(dialect: Dialect) -> Self {
        StreamDecoder {
            sse: SseDecoder::new(),
            _dialect: dialect,
            model: String::new(),
            started: false,
            stopped: false,
            done: false,
            failed: false,
            next_part: 0,
            thinking_part: None,
            text_part: None,
            tools: Vec::new(),
        }
    }

    fn on_events(&mut self, events: Vec<SseEvent>, out: &mut Vec<StreamEvent>) {
        for event in events {
            self.on_data(&event.data, out);
        }
    }

    fn on_data(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        let data = data.trim();
        if self.failed || self.done || data.is_empty() || data.starts_with(':') {
            return;
        }
        if data == "[DONE]" {
            self.done = true;
            if !self.stopped {
                // A terminator without a finish_reason: the answer is complete as it stands.
                self.start(None, None, out);
                self.stopped = true;
                out.push(StreamEvent::Stop {
                    reason: self.natural_stop(),
                    stop_sequence: None,
                });
            }
            return;
        }
        if let Some(chunk) = WireCompletion::from_text(data) {
            return self.on_chunk(chunk, out);
        }
        // Not a chunk: an error, or not JSON at all.
        let value: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(_) => {
                let e = ProviderError::new(
                    ErrorKind::Upstream,
                    "the upstream sent a stream chunk that is not JSON",
                );
                return self.fail(e, out);
            }
        };
        if let Some(error) = error_in_value(&value, &self.model) {
            return self.fail(error, out);
        }
        self.on_chunk(WireCompletion::default(), out);
    }

    fn on_chunk(&mut self, mut chunk: WireCompletion, out: &mut Vec<StreamEvent>) {
        self.start(chunk.id.take(), chunk.model.take(), out);
        let usage = chunk.usage.take().and_then(|u| u.to_usage());
        if let Some(choice) = chunk.into_first_choice().filter(|_| !self.stopped) {
            if let Some(delta) = choice.delta.or(choice.message) {
                if let Some(thinking) = delta.reasoning_text() {
                    let part = part_of(&mut self.thinking_part, &mut self.next_part);
                    out.push(StreamEvent::ThinkingDelta {
                        index: part,
                        delta: ThinkingDelta::Text(thinking.to_string()),
                    });
                }
                let mut text = delta.content_text();
                if let Some(refusal) = &delta.refusal {
                    text.push_str(refusal);
                }
                if !text.is_empty() {
                    let part = part_of(&mut self.text_part, &mut self.next_part);
                    out.push(StreamEvent::TextDelta { index: part, text });
                }
                for call in delta.tool_calls.unwrap_or_default() {
                    self.on_tool_call(call, out);
                }
            }
            if let Some(reason) = choice.finish_reason {
                match map_finish(&reason, !self.tools.is_empty()) {
                    Finish::Stop(reason) => {
                        self.stopped = true;
                        out.push(StreamEvent::Stop {
                            reason,
                            stop_sequence: None,
                        });
                    }
                    Finish::Overloaded => {
                        let mut e = ProviderError::new(ErrorKind::Overloaded, CAPACITY_MESSAGE);
                        e.upstream_type = Some(reason);
                        return self.fail(e, out);
                    }
                }
            }
        }
        if let Some(usage) = usage {
            out.push(StreamEvent::Usage(usage));
        }
    }

    fn on_tool_call(&mut self, call: WireToolCall, out: &mut Vec<StreamEvent>) {
        let function = call.function.unwrap_or_default();
        let arguments = function.arguments_text();
        let id = call.id.filter(|id| !id.is_empty());
        let mut extra = call.extra;
        extra.remove("index");
        let existing = match (call.index, &id) {
            (Some(i), _) => self.tools.iter().position(|t| t.wire_index == Some(i)),
            (None, Some(id)) => self.tools.iter().position(|t| t.id == *id),
            // No index, no id and a name: a whole new call. Without a name it can only be more
            // of the latest call (a metadata-only or arguments-only fragment).
            (None, None) if function.name.is_some() => None,
            (None, None) => self.tools.len().checked_sub(1),
        };
        match existing.and_then(|pos| self.tools.get(pos)) {
            Some(slot) => {
                if arguments.is_empty() && extra.is_empty() && function.name.is_none() {
                    return;
                }
                out.push(StreamEvent::ToolCallDelta {
                    index: slot.part,
                    id: id.filter(|new| *new != slot.id),
                    name: function.name,
                    arguments,
                    extra,
                });
            }
            None => {
                let slot = ToolSlot {
                    wire_index: call.index,
                    id: id.unwrap_or_else(|| generate_id("call_")),
                    part: self.next_part,
                };
                self.next_part += 1;
                out.push(StreamEvent::ToolCallDelta {
                    index: slot.part,
                    id: Some(slot.id.clone()),
                    name: Some(function.name.unwrap_or_default()),
                    arguments,
                    extra,
                });
                self.tools.push(slot);
            }
        }
    }

    /// Emits `Start` once, before anything else.
    fn start(&mut self, id: Option<String>, model: Option<String>, out: &mut Vec<StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        self.model = model.unwrap_or_default();
        out.push(StreamEvent::Start {
            id: id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| generate_id("chatcmpl-")),
            model: self.model.clone(),
        });
    }

    fn natural_stop(&self) -> StopReason {
        if self.tools.is_empty() {
            StopReason::EndTurn
        } else {
            StopReason::ToolUse
        }
    }

    fn fail(&mut self, error: ProviderError, out: &mut Vec<StreamEvent>) {
        self.failed = true;
        out.push(StreamEvent::Error(error));
    }
}

/// The part index for the text or reasoning part, given out on first use.
fn part_of(slot: &mut Option<u32>, next: &mut u32) -> u32 {
    *slot.get_or_insert_with(|| {
        *next += 1;
        *next - 1
    })
}

impl StreamDecode for StreamDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<StreamEvent>) {
        let mut events = Vec::new();
        self.sse.feed(bytes, &mut events);
        self.on_events(events, out);
    }

    /// A stream is complete after `[DONE]` or a `finish_reason` (usage may then be missing);
    /// anything else is reported as cut short.
    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        let mut events = Vec::new();
        self.sse.finish(&mut events);
        self.on_events(events, out);
        if self.failed || self.done || self.stopped {
            return;
        }
        self.fail(ProviderError::new(ErrorKind::Upstream, TRUNCATED), out);
    }
}
