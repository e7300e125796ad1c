//! Unified events to the NDJSON stream an Ollama client reads.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::clock::now_rfc3339;
use super::response::tool_call_value;
use super::shared::done_reason;
use crate::messages::{parse_arguments, StopReason, StreamEvent, ThinkingDelta, Usage};
use crate::provider::StreamEncode;

/// Writes Ollama's stream: one `done:false` line per text or thinking delta and per tool call,
/// then at [`finish`](StreamEncode::finish) the `done:true` line with `done_reason` and the counts
/// of the last `Usage` (which may follow `Stop`, so the line waits for the end).
///
/// Ollama clients receive each tool call whole, while other protocols stream arguments in
/// fragments: calls are assembled and written once the next non-call event (or the end) shows
/// they are complete. An `Error` writes `{"error":"…"}` and ends the stream.
#[derive(Debug)]
pub struct StreamEncoder {
    model: String,
    /// Calls being assembled, by part index: `(id, name, arguments text)`.
    calls: BTreeMap<u32, (String, String, String)>,
    calls_written: usize,
    usage: Option<Usage>,
    stop: Option<StopReason>,
    /// The last line was written (the `done:true` line or an error).
    ended: bool,
}

impl StreamEncoder {
    /// `model` is the name the client asked for, which Ollama echoes on every line.
    pub fn new(model: &str) -> Self {
        StreamEncoder {
            model: model.to_string(),
            calls: BTreeMap::new(),
            calls_written: 0,
            usage: None,
            stop: None,
            ended: false,
        }
    }

    fn write_line(value: &Value, out: &mut Vec<u8>) {
        out.extend_from_slice(value.to_string().as_bytes());
        out.push(b'\n');
    }

    fn write_message(&self, message: Value, out: &mut Vec<u8>) {
        let line = json!({
            "model": self.model,
            "created_at": now_rfc3339(),
            "message": message,
            "done": false,
        });
        Self::write_line(&line, out);
    }

    /// Writes the calls assembled so far, each on its own line.
    fn flush_calls(&mut self, out: &mut Vec<u8>) {
        for (_, (id, name, arguments)) in std::mem::take(&mut self.calls) {
            let call =
                tool_call_value(self.calls_written, &id, &name, &parse_arguments(&arguments));
            self.calls_written += 1;
            let message = json!({"role": "assistant", "content": "", "tool_calls": [call]});
            self.write_message(message, out);
        }
    }

    fn write_error(&mut self, message: &str, out: &mut Vec<u8>) {
        self.ended = true;
        Self::write_line(&json!({ "error": message }), out);
    }
}

impl StreamEncode for StreamEncoder {
    fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        if let StreamEvent::ToolCallDelta {
            index,
            id,
            name,
            arguments,
            ..
        } = event
        {
            let call = self.calls.entry(*index).or_default();
            if let Some(id) = id {
                call.0.clone_from(id);
            }
            if let Some(name) = name {
                call.1.clone_from(name);
            }
            call.2.push_str(arguments);
            return;
        }
        self.flush_calls(out);
        match event {
            StreamEvent::Start { model, .. } => {
                if self.model.is_empty() {
                    self.model.clone_from(model);
                }
            }
            StreamEvent::TextDelta { text, .. } if !text.is_empty() => {
                self.write_message(json!({"role": "assistant", "content": text}), out);
            }
            StreamEvent::ThinkingDelta {
                delta: ThinkingDelta::Text(text),
                ..
            } if !text.is_empty() => {
                let message = json!({"role": "assistant", "content": "", "thinking": text});
                self.write_message(message, out);
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Stop { reason, .. } => self.stop = Some(reason.clone()),
            StreamEvent::Error(error) => self.write_error(&error.message, out),
            // Empty deltas, signatures and redacted reasoning have no Ollama form.
            StreamEvent::TextDelta { .. }
            | StreamEvent::ThinkingDelta { .. }
            | StreamEvent::ToolCallDelta { .. } => {}
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        self.flush_calls(out);
        let Some(reason) = self.stop.take() else {
            return self.write_error("the stream ended before the model finished", out);
        };
        self.ended = true;
        let mut line = json!({
            "model": self.model,
            "created_at": now_rfc3339(),
            "message": {"role": "assistant", "content": ""},
            "done": true,
            "done_reason": done_reason(&reason),
        });
        if let (Some(usage), Value::Object(fields)) = (self.usage, &mut line) {
            fields.insert("prompt_eval_count".into(), json!(usage.input_tokens));
            fields.insert("eval_count".into(), json!(usage.output_tokens));
        }
        Self::write_line(&line, out);
    }
}
