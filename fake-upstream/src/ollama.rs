//! Ollama native API bodies, errors and NDJSON streams, as the server writes them
//! (PROTOCOLS.md §3.2–3.6). Durations are nanoseconds; tool arguments are JSON objects.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::frame::ndjson_line;
use crate::reply::Reply;

/// The model canned replies report.
pub const MODEL: &str = "llama3.2";
/// The `created_at` of canned replies.
pub const CREATED_AT: &str = "2025-07-07T20:22:19.18Z";
/// What `/api/version` answers by default.
pub const VERSION: &str = "0.12.3";

/// Token counts as Ollama reports them on the final (`done: true`) object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Input tokens.
    pub prompt_eval_count: u64,
    /// Output tokens.
    pub eval_count: u64,
}

impl Usage {
    pub fn new(prompt_eval_count: u64, eval_count: u64) -> Usage {
        Usage {
            prompt_eval_count,
            eval_count,
        }
    }
}

/// One tool call; `id` is absent on older servers.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    /// A JSON object (key order kept), not a string.
    pub arguments: Value,
}

impl ToolCall {
    /// A call with an id, as newer servers send it.
    pub fn new(id: &str, name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: Some(id.to_owned()),
            name: name.to_owned(),
            arguments,
        }
    }

    /// A call without `id` or `function.index`, as older servers send it.
    pub fn without_id(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: None,
            name: name.to_owned(),
            arguments,
        }
    }

    fn to_json(&self, index: usize) -> Value {
        match &self.id {
            Some(id) => json!({
                "id": id,
                "function": {"index": index, "name": self.name, "arguments": self.arguments},
            }),
            None => json!({"function": {"name": self.name, "arguments": self.arguments}}),
        }
    }
}

/// An assistant `message` object.
fn message(content: &str) -> Value {
    json!({"role": "assistant", "content": content})
}

/// A final (`done: true`) object with any message, `done_reason` and the metrics.
pub fn chat_with(model: &str, message: Value, done_reason: &str, usage: Usage) -> Value {
    json!({
        "model": model,
        "created_at": CREATED_AT,
        "message": message,
        "done": true,
        "done_reason": done_reason,
        "total_duration": 4_883_583_458u64,
        "load_duration": 1_334_875u64,
        "prompt_eval_count": usage.prompt_eval_count,
        "prompt_eval_duration": 342_546_000u64,
        "eval_count": usage.eval_count,
        "eval_duration": 4_535_599_000u64,
    })
}

/// A non-streamed (`stream: false`) text answer.
pub fn chat(text: &str, usage: Usage) -> Value {
    chat_with(MODEL, message(text), "stop", usage)
}

/// A non-streamed answer with tool calls (`done_reason` stays `stop`, as Ollama sends it).
pub fn tool_calls_chat(calls: &[ToolCall], usage: Usage) -> Value {
    let mut message = message("");
    message["tool_calls"] = tool_calls_json(calls);
    chat_with(MODEL, message, "stop", usage)
}

/// A non-streamed answer with `message.thinking` beside the text.
pub fn thinking_chat(thinking: &str, text: &str, usage: Usage) -> Value {
    let mut message = message(text);
    message["thinking"] = Value::from(thinking);
    chat_with(MODEL, message, "stop", usage)
}

fn tool_calls_json(calls: &[ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .enumerate()
            .map(|(index, call)| call.to_json(index))
            .collect(),
    )
}

/// Builds an NDJSON stream line by line.
#[derive(Clone, Debug)]
pub struct StreamBuilder {
    model: String,
    lines: Vec<Bytes>,
}

impl StreamBuilder {
    pub fn new(model: &str) -> StreamBuilder {
        StreamBuilder {
            model: model.to_owned(),
            lines: Vec::new(),
        }
    }

    /// One `done: false` line per piece of content.
    pub fn content(mut self, pieces: &[&str]) -> StreamBuilder {
        for piece in pieces {
            self.push_partial(message(piece));
        }
        self
    }

    /// One `done: false` line per piece of `message.thinking` (content empty).
    pub fn thinking(mut self, pieces: &[&str]) -> StreamBuilder {
        for piece in pieces {
            let mut message = message("");
            message["thinking"] = Value::from(*piece);
            self.push_partial(message);
        }
        self
    }

    /// One `done: false` line carrying whole tool calls (Ollama never splits a call).
    pub fn tool_calls(mut self, calls: &[ToolCall]) -> StreamBuilder {
        let mut message = message("");
        message["tool_calls"] = tool_calls_json(calls);
        self.push_partial(message);
        self
    }

    /// Any raw chunk here (a blank line, a line split in two, garbage).
    pub fn raw(mut self, chunk: Bytes) -> StreamBuilder {
        self.lines.push(chunk);
        self
    }

    /// Ends with the final `done: true` line: empty content, `done_reason`, the metrics.
    pub fn done(mut self, done_reason: &str, usage: Usage) -> Vec<Bytes> {
        let last = chat_with(&self.model, message(""), done_reason, usage);
        self.lines.push(ndjson_line(&last));
        self.lines
    }

    /// Ends with a mid-stream `{"error":"..."}` line and no `done: true`.
    pub fn fail(mut self, message: &str) -> Vec<Bytes> {
        self.lines.push(error_line(message));
        self.lines
    }

    /// The lines so far, with no end at all (a truncated stream).
    pub fn truncated(self) -> Vec<Bytes> {
        self.lines
    }

    fn push_partial(&mut self, message: Value) {
        let line = json!({
            "model": self.model,
            "created_at": CREATED_AT,
            "message": message,
            "done": false,
        });
        self.lines.push(ndjson_line(&line));
    }
}

/// A text answer streamed as `pieces`, ending `done_reason: "stop"`.
pub fn stream_text(model: &str, pieces: &[&str]) -> Vec<Bytes> {
    let usage = Usage::new(26, pieces.len() as u64);
    StreamBuilder::new(model)
        .content(pieces)
        .done("stop", usage)
}

/// The error body, `{"error":"<message>"}`.
pub fn error_body(message: &str) -> Value {
    json!({"error": message})
}

/// An error reply with any status.
pub fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, error_body(message))
}

/// 404 for a model that was never pulled.
pub fn model_not_found(model: &str) -> Reply {
    error(404, &format!("model '{model}' not found"))
}

/// The mid-stream error line (after HTTP 200).
pub fn error_line(message: &str) -> Bytes {
    ndjson_line(&error_body(message))
}

/// The `GET /api/tags` body listing locally pulled `names`.
pub fn tags(names: &[&str]) -> Value {
    let models: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({
                "name": name,
                "model": name,
                "modified_at": "2025-05-04T17:37:44-07:00",
                "size": 2_019_393_189u64,
                "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": "llama",
                    "families": ["llama"],
                    "parameter_size": "3.2B",
                    "quantization_level": "Q4_K_M",
                },
            })
        })
        .collect();
    json!({"models": models})
}

/// The `GET /api/version` body.
pub fn version(version: &str) -> Value {
    json!({"version": version})
}
