//! Moxxy → client: [`StreamEvent`]s as a Chat Completions SSE stream the OpenAI SDKs accept,
//! whatever protocol the upstream spoke.
//!
//! - The first chunk is `delta: {role: "assistant", content: ""}` (PITFALLS: translated streams).
//! - Every chunk shares one `id`, `created` and `model`.
//! - Tool calls are numbered 0, 1, … in the order they first appear; the first fragment of each
//!   carries `id`, `type`, `function.name` and `arguments: ""`.
//! - With `include_usage`, every chunk has `"usage": null` and one usage-only chunk
//!   (`choices: []`) comes just before `[DONE]`; usage is held until then, since it may arrive
//!   before or after `Stop`. Unknown usage sends no usage chunk (absent is not zero).
//! - An error is one `data: {"error": {…}}` chunk, and the stream ends there **without**
//!   `[DONE]`: the SDKs raise on the error chunk, and a client that only checks for `[DONE]` must
//!   not take a failed answer for a complete one.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::error::encode_error;
use super::response::{completion_id, finish_reason, unix_now, usage_json};
use super::types::generate_id;
use crate::messages::{StreamEvent, ThinkingDelta, Usage};
use crate::provider::sse::write_event;
use crate::provider::StreamEncode;

/// Encodes one streamed answer for a client.
#[derive(Debug)]
pub struct StreamEncoder {
    id: Option<String>,
    created: u64,
    model: String,
    include_usage: bool,
    role_sent: bool,
    /// Content-part index → OpenAI tool-call index.
    tool_ordinals: HashMap<u32, u32>,
    usage: Option<Usage>,
    /// A `Stop` was written: the answer is over, only usage may still change.
    stopped: bool,
    failed: bool,
    finished: bool,
}

impl StreamEncoder {
    /// `model` is the model name shown to the client; `include_usage` is the client's
    /// `stream_options.include_usage`.
    pub fn new(model: &str, include_usage: bool) -> Self {
        StreamEncoder {
            id: None,
            created: unix_now(),
            model: model.to_string(),
            include_usage,
            role_sent: false,
            tool_ordinals: HashMap::new(),
            usage: None,
            stopped: false,
            failed: false,
            finished: false,
        }
    }

    /// Writes one chunk with a single choice holding `delta`.
    fn chunk(&mut self, delta: Value, finish: Option<&str>, out: &mut Vec<u8>) {
        self.ensure_role(out);
        self.write_choice(delta, finish, out);
    }

    fn ensure_role(&mut self, out: &mut Vec<u8>) {
        if !self.role_sent {
            self.role_sent = true;
            self.write_choice(json!({"role": "assistant", "content": ""}), None, out);
        }
    }

    fn write_choice(&mut self, delta: Value, finish: Option<&str>, out: &mut Vec<u8>) {
        let choices =
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
        self.write(choices, Value::Null, out);
    }

    fn write(&mut self, choices: Value, usage: Value, out: &mut Vec<u8>) {
        let id = self
            .id
            .get_or_insert_with(|| generate_id("chatcmpl-"))
            .clone();
        let mut chunk = Map::new();
        chunk.insert("id".into(), json!(id));
        chunk.insert("object".into(), json!("chat.completion.chunk"));
        chunk.insert("created".into(), json!(self.created));
        chunk.insert("model".into(), json!(self.model));
        chunk.insert("choices".into(), choices);
        if self.include_usage {
            chunk.insert("usage".into(), usage);
        }
        write_event(out, None, &Value::Object(chunk).to_string());
    }

    fn tool_call(
        &mut self,
        part: u32,
        id: Option<&str>,
        name: Option<&str>,
        arguments: &str,
        extra: &Map<String, Value>,
        out: &mut Vec<u8>,
    ) {
        let next = u32::try_from(self.tool_ordinals.len()).unwrap_or(u32::MAX);
        let mut first = false;
        let ordinal = *self.tool_ordinals.entry(part).or_insert_with(|| {
            first = true;
            next
        });
        let mut call = Map::new();
        call.insert("index".into(), json!(ordinal));
        if first {
            let id = id.map_or_else(|| generate_id("call_"), str::to_string);
            call.insert("id".into(), json!(id));
            call.insert("type".into(), json!("function"));
            call.insert(
                "function".into(),
                json!({"name": name.unwrap_or_default(), "arguments": ""}),
            );
        } else {
            if let Some(id) = id {
                call.insert("id".into(), json!(id));
            }
            let mut function = Map::new();
            if let Some(name) = name {
                function.insert("name".into(), json!(name));
            }
            function.insert("arguments".into(), json!(arguments));
            call.insert("function".into(), Value::Object(function));
        }
        for (k, v) in extra {
            call.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let says_something =
            first || !arguments.is_empty() || id.is_some() || name.is_some() || !extra.is_empty();
        if says_something {
            self.chunk(json!({"tool_calls": [call]}), None, out);
        }
        if first && !arguments.is_empty() {
            // The arguments follow their header, as OpenAI streams them.
            let more = json!({"index": ordinal, "function": {"arguments": arguments}});
            self.chunk(json!({"tool_calls": [more]}), None, out);
        }
    }
}

impl StreamEncode for StreamEncoder {
    fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.failed || self.finished {
            return;
        }
        // After `Stop` only a trailing usage belongs to the answer (see `StreamEvent::Stop`);
        // content or a second stop from a broken source would give the client a second
        // `finish_reason`.
        if self.stopped && !matches!(event, StreamEvent::Usage(_) | StreamEvent::Error(_)) {
            return;
        }
        match event {
            StreamEvent::Start { id, model } => {
                if self.id.is_none() {
                    self.id = Some(completion_id(id));
                }
                if self.model.is_empty() {
                    self.model.clone_from(model);
                }
                self.ensure_role(out);
            }
            StreamEvent::TextDelta { text, .. } if !text.is_empty() => {
                self.chunk(json!({"content": text}), None, out);
            }
            StreamEvent::ThinkingDelta {
                delta: ThinkingDelta::Text(text),
                ..
            } if !text.is_empty() => {
                self.chunk(json!({"reasoning_content": text}), None, out);
            }
            StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                arguments,
                extra,
            } => self.tool_call(
                *index,
                id.as_deref(),
                name.as_deref(),
                arguments,
                extra,
                out,
            ),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Stop { reason, .. } => {
                self.stopped = true;
                self.chunk(json!({}), Some(finish_reason(reason)), out);
            }
            StreamEvent::Error(error) => {
                self.failed = true;
                write_event(out, None, &encode_error(error).to_string());
            }
            // Empty deltas, signatures and redacted reasoning have no OpenAI form.
            _ => {}
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.failed || self.finished {
            return;
        }
        self.finished = true;
        self.ensure_role(out);
        if self.include_usage {
            if let Some(usage) = self.usage {
                self.write(json!([]), usage_json(&usage), out);
            }
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
}
