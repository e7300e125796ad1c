//! Ollama's NDJSON stream (PROTOCOLS.md §3.4–3.6) to unified events.
//!
//! Each line is a whole answer object: `done:false` lines carry `message.thinking` and
//! `message.content` pieces and whole tool calls; the `done:true` line carries `done_reason` and the
//! counts. Only that line proves the stream complete. A line `{"error":"…"}` can arrive after
//! HTTP 200 and ends the stream.

use super::shared::{
    check_completion, new_message_id, stop_reason, truncate, upstream, MAX_RAW_ERROR_CHARS,
};
use super::types::{ChatChunk, ChunkMessage};
use crate::error::ProviderError;
use crate::messages::{arguments_to_text, JsonObject, StreamEvent, ThinkingDelta};
use crate::provider::ndjson::NdjsonDecoder;
use crate::provider::StreamDecode;

/// Turns an Ollama `/api/chat` stream into [`StreamEvent`]s.
///
/// Events: `Start` (with a generated id: Ollama has none) on the first answer line; a
/// `ThinkingDelta` per `message.thinking`, a `TextDelta` per `message.content`, one
/// `ToolCallDelta` per tool call holding its id, name and complete arguments; then `Usage` and
/// `Stop` on `done:true`. Part indexes are given in order of first appearance (all thinking is
/// one part, all text another, each call its own). An error line, a `load`/`unload` end (no
/// completion), a line that is not JSON, or the body ending before `done:true` gives one
/// [`StreamEvent::Error`] and nothing after it.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    lines: NdjsonDecoder,
    started: bool,
    /// `done:true` or a failure was seen: nothing more is decoded.
    ended: bool,
    next_index: u32,
    thinking_index: Option<u32>,
    text_index: Option<u32>,
    saw_tool_calls: bool,
}

impl StreamDecoder {
    /// A decoder for one response body.
    pub fn new() -> Self {
        Self::default()
    }

    fn decode_line(&mut self, line: &str, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        let chunk: ChatChunk = match serde_json::from_str(line) {
            Ok(chunk) => chunk,
            Err(e) => {
                return self.fail(
                    upstream(format!(
                        "Ollama sent a stream line that is not an answer object ({e}): {}",
                        truncate(line, MAX_RAW_ERROR_CHARS)
                    )),
                    out,
                )
            }
        };
        if let Some(message) = chunk.error_message() {
            return self.fail(upstream(format!("Ollama failed: {message}")), out);
        }
        let done = chunk.is_done();
        if done {
            // Refused before anything is emitted for it.
            if let Err(e) = check_completion(chunk.done_reason.as_deref()) {
                return self.fail(e, out);
            }
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: new_message_id(),
                model: chunk.model.clone().unwrap_or_default(),
            });
        }
        let usage = chunk.usage();
        if let Some(message) = chunk.message {
            self.decode_message(message, out);
        }
        if done {
            self.ended = true;
            out.push(StreamEvent::Usage(usage));
            out.push(StreamEvent::Stop {
                reason: stop_reason(chunk.done_reason.as_deref(), self.saw_tool_calls),
                stop_sequence: None,
            });
        }
    }

    fn decode_message(&mut self, message: ChunkMessage, out: &mut Vec<StreamEvent>) {
        if let Some(thinking) = message.thinking.filter(|t| !t.is_empty()) {
            let index = part_index(&mut self.thinking_index, &mut self.next_index);
            out.push(StreamEvent::ThinkingDelta {
                index,
                delta: ThinkingDelta::Text(thinking),
            });
        }
        if let Some(text) = message.content.filter(|t| !t.is_empty()) {
            let index = part_index(&mut self.text_index, &mut self.next_index);
            out.push(StreamEvent::TextDelta { index, text });
        }
        for call in message.tool_calls.unwrap_or_default() {
            self.saw_tool_calls = true;
            let index = self.next_index;
            self.next_index += 1;
            let (id, name, arguments) = call.into_parts();
            out.push(StreamEvent::ToolCallDelta {
                index,
                id: Some(id),
                name: Some(name),
                arguments: arguments_to_text(&arguments),
                extra: JsonObject::new(),
            });
        }
    }

    fn fail(&mut self, error: ProviderError, out: &mut Vec<StreamEvent>) {
        self.ended = true;
        out.push(StreamEvent::Error(error));
    }
}

/// The index of a part that all deltas of one kind share, assigned on its first delta.
fn part_index(slot: &mut Option<u32>, next_index: &mut u32) -> u32 {
    *slot.get_or_insert_with(|| {
        let index = *next_index;
        *next_index += 1;
        index
    })
}

impl StreamDecode for StreamDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        let mut lines = Vec::new();
        self.lines.feed(bytes, &mut lines);
        for line in &lines {
            self.decode_line(line, out);
        }
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        let mut lines = Vec::new();
        self.lines.finish(&mut lines);
        for line in &lines {
            self.decode_line(line, out);
        }
        if !self.ended {
            self.fail(upstream("the stream from Ollama ended before done"), out);
        }
    }
}
