//! Unified stream events to Anthropic's SSE event sequence, for clients of `/v1/messages`.

use serde_json::json;

use super::error::encode_error;
use super::mapping::stop_reason_to_wire;
use super::response::{message_id, usage_json};
use super::stream_blocks::{Blocks, Piece};
use crate::messages::{StopReason, StreamEvent, ThinkingDelta, Usage};
use crate::provider::sse::write_event;
use crate::provider::StreamEncode;

/// Writes the Anthropic event sequence — `message_start`, one block at a time, `message_delta`,
/// `message_stop` — for events that may come from any upstream protocol.
///
/// - `message_start` is held until the first content (or the end), so that input usage reported
///   before any content (as Anthropic and Moxxy's decoders do) is in it; otherwise it says zeros.
/// - Blocks are renumbered 0, 1, 2… and never interleaved (see `stream_blocks`).
/// - `message_delta` needs the stop reason and the final usage. Anthropic-style sources report
///   usage before stopping, OpenAI-style ones after: it is written as soon as a stop and a usage
///   later than `message_start` are both known, again if usage changes after that (counts are
///   cumulative), and at the latest by `finish()`.
/// - An `Error` event becomes an `error` event and ends the stream: nothing follows, not even
///   `message_stop`, exactly as Anthropic does.
/// - After `Stop` only usage (and an error) is taken: content or a second stop is dropped.
/// - The model reported is the one given to [`StreamEncoder::new`] (the name the client asked
///   for), or the upstream's when that is empty.
#[derive(Debug)]
pub struct StreamEncoder {
    model: String,
    id: String,
    upstream_model: String,
    /// Usage as last reported.
    usage: Option<Usage>,
    /// A usage report arrived after `message_start` was written, so it can close the message.
    late_usage: bool,
    stop: Option<(StopReason, Option<String>)>,
    blocks: Blocks,
    started: bool,
    delta_sent: bool,
    ended: bool,
}

impl StreamEncoder {
    /// An encoder for one answer; `model` is the name the client should see.
    pub fn new(model: &str) -> Self {
        StreamEncoder {
            model: model.to_string(),
            id: String::new(),
            upstream_model: String::new(),
            usage: None,
            late_usage: false,
            stop: None,
            blocks: Blocks::default(),
            started: false,
            delta_sent: false,
            ended: false,
        }
    }

    fn ensure_started(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let model = if self.model.is_empty() {
            &self.upstream_model
        } else {
            &self.model
        };
        let start = json!({
            "type": "message_start",
            "message": {
                "id": message_id(&self.id),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage_json(&self.usage.unwrap_or_default()),
            },
        });
        write_event(out, Some("message_start"), &start.to_string());
    }

    fn content(&mut self, index: u32, piece: Piece, out: &mut Vec<u8>) {
        self.ensure_started(out);
        self.blocks.push(index, piece, out);
    }

    fn write_delta(&mut self, out: &mut Vec<u8>) {
        self.delta_sent = true;
        let (reason, sequence) = match &self.stop {
            Some((reason, sequence)) => (stop_reason_to_wire(reason), sequence.clone()),
            // Only reachable when a source ended without saying why (decoders report that as an
            // error instead): the answer did end.
            None => ("end_turn", None),
        };
        let delta = json!({
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": sequence},
            "usage": usage_json(&self.usage.unwrap_or_default()),
        });
        write_event(out, Some("message_delta"), &delta.to_string());
    }
}

impl StreamEncode for StreamEncoder {
    fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        // After `Stop` only a trailing usage belongs to the answer (see `StreamEvent::Stop`);
        // content from a broken source would open a block after `message_delta`.
        if self.stop.is_some() && !matches!(event, StreamEvent::Usage(_) | StreamEvent::Error(_)) {
            return;
        }
        match event {
            StreamEvent::Start { id, model } => {
                self.id.clone_from(id);
                self.upstream_model.clone_from(model);
            }
            StreamEvent::TextDelta { index, text } => {
                self.content(*index, Piece::Text(text.clone()), out)
            }
            StreamEvent::ThinkingDelta { index, delta } => {
                let piece = match delta {
                    ThinkingDelta::Text(text) => Piece::Thinking(text.clone()),
                    ThinkingDelta::Signature(signature) => Piece::Signature(signature.clone()),
                    ThinkingDelta::Redacted(data) => Piece::Redacted(data.clone()),
                };
                self.content(*index, piece, out);
            }
            StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                arguments,
                ..
            } => {
                let piece = Piece::Tool {
                    id: id.clone(),
                    name: name.clone(),
                    arguments: arguments.clone(),
                };
                self.content(*index, piece, out);
            }
            StreamEvent::Usage(usage) => {
                self.usage = Some(*usage);
                if self.started {
                    self.late_usage = true;
                    if self.stop.is_some() {
                        self.write_delta(out);
                    }
                }
            }
            StreamEvent::Stop {
                reason,
                stop_sequence,
            } => {
                self.ensure_started(out);
                self.blocks.close_all(out);
                self.stop = Some((reason.clone(), stop_sequence.clone()));
                if self.late_usage {
                    self.write_delta(out);
                }
            }
            StreamEvent::Error(error) => {
                write_event(out, Some("error"), &encode_error(error).to_string());
                self.ended = true;
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        self.ensure_started(out);
        self.blocks.close_all(out);
        if !self.delta_sent {
            self.write_delta(out);
        }
        write_event(
            out,
            Some("message_stop"),
            &json!({"type": "message_stop"}).to_string(),
        );
        self.ended = true;
    }
}
