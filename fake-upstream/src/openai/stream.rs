//! OpenAI streams (PROTOCOLS.md §2.4): data-only SSE `chat.completion.chunk`s sharing one id,
//! the first with `role`, a finish chunk with an empty delta, an optional usage-only chunk with
//! `choices: []`, then `data: [DONE]`. One event per chunk.

use bytes::Bytes;
use serde_json::{json, Value};

use super::{error_chunk, ToolCall, Usage, COMPLETION_ID, CREATED};
use crate::frame::{sse_data, sse_done};

/// One event of the stream being built.
#[derive(Clone, Debug)]
enum Item {
    /// A chunk with one choice: its `delta` and `finish_reason`.
    Choice {
        delta: Value,
        finish: Option<String>,
    },
    Raw(Bytes),
}

/// Builds one stream chunk by chunk. Chunks are rendered at the end so that, when a usage
/// chunk is asked for, every other chunk says `"usage": null` as OpenAI does.
#[derive(Clone, Debug)]
pub struct StreamBuilder {
    model: String,
    items: Vec<Item>,
    usage: Option<Usage>,
    next_tool_index: usize,
}

impl StreamBuilder {
    /// Starts with the role chunk: `{"role":"assistant","content":"","refusal":null}`.
    pub fn new(model: &str) -> StreamBuilder {
        let first = json!({"role": "assistant", "content": "", "refusal": null});
        StreamBuilder {
            model: model.to_owned(),
            items: vec![Item::Choice {
                delta: first,
                finish: None,
            }],
            usage: None,
            next_tool_index: 0,
        }
    }

    /// One `content` delta per piece.
    pub fn content(self, pieces: &[&str]) -> StreamBuilder {
        self.deltas("content", pieces)
    }

    /// One DeepSeek `reasoning_content` delta per piece (sent before the content).
    pub fn reasoning_content(self, pieces: &[&str]) -> StreamBuilder {
        self.deltas("reasoning_content", pieces)
    }

    /// One Ollama-`/v1` style `reasoning` delta per piece.
    pub fn reasoning(self, pieces: &[&str]) -> StreamBuilder {
        self.deltas("reasoning", pieces)
    }

    /// One tool call at the next index: a head fragment (id, type, name, `arguments: ""`), then
    /// its arguments in `pieces` fragments.
    pub fn tool_call(self, call: &ToolCall, pieces: usize) -> StreamBuilder {
        self.parallel_tool_calls(std::slice::from_ref(call), pieces)
    }

    /// Parallel tool calls at the next indexes: every head first, then the argument fragments
    /// round-robin (call 0, call 1, call 0, ...), so a client must join them by `index`.
    pub fn parallel_tool_calls(mut self, calls: &[ToolCall], pieces: usize) -> StreamBuilder {
        let first = self.next_tool_index;
        self.next_tool_index += calls.len();
        for (offset, call) in calls.iter().enumerate() {
            let head = json!({
                "index": first + offset,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            });
            self.push_delta(json!({"tool_calls": [head]}));
        }
        let split: Vec<Vec<&str>> = calls
            .iter()
            .map(|call| split_text(&call.arguments, pieces))
            .collect();
        let rounds = split.iter().map(Vec::len).max().unwrap_or(0);
        for round in 0..rounds {
            for (offset, fragments) in split.iter().enumerate() {
                if let Some(fragment) = fragments.get(round) {
                    let part =
                        json!({"index": first + offset, "function": {"arguments": fragment}});
                    self.push_delta(json!({"tool_calls": [part]}));
                }
            }
        }
        self
    }

    /// Any raw chunk here (a `: keep-alive` comment, an unknown event, garbage).
    pub fn raw(mut self, chunk: Bytes) -> StreamBuilder {
        self.items.push(Item::Raw(chunk));
        self
    }

    /// The finish chunk: an empty delta with `finish_reason`.
    pub fn finish(mut self, finish_reason: &str) -> StreamBuilder {
        self.items.push(Item::Choice {
            delta: json!({}),
            finish: Some(finish_reason.to_owned()),
        });
        self
    }

    /// Adds the `stream_options.include_usage` chunk (`choices: []`) before `[DONE]`.
    pub fn usage(mut self, usage: Usage) -> StreamBuilder {
        self.usage = Some(usage);
        self
    }

    /// Ends normally: the usage chunk if any, then `data: [DONE]`.
    pub fn done(self) -> Vec<Bytes> {
        let mut chunks = self.render();
        chunks.push(sse_done());
        chunks
    }

    /// Ends without `[DONE]` (some compatibles stop after the finish chunk).
    pub fn without_done(self) -> Vec<Bytes> {
        self.render()
    }

    /// Ends with a mid-stream `data: {"error":{...}}` and no `[DONE]`.
    pub fn fail(self, error_type: &str, code: Option<&str>, message: &str) -> Vec<Bytes> {
        let mut chunks = self.render();
        chunks.push(error_chunk(error_type, code, message));
        chunks
    }

    fn deltas(mut self, field: &str, pieces: &[&str]) -> StreamBuilder {
        for piece in pieces {
            let mut delta = serde_json::Map::new();
            delta.insert(field.to_owned(), Value::from(*piece));
            self.push_delta(Value::Object(delta));
        }
        self
    }

    fn push_delta(&mut self, delta: Value) {
        self.items.push(Item::Choice {
            delta,
            finish: None,
        });
    }

    fn render(self) -> Vec<Bytes> {
        let with_usage = self.usage.is_some();
        let mut chunks: Vec<Bytes> = self
            .items
            .iter()
            .map(|item| match item {
                Item::Raw(bytes) => bytes.clone(),
                Item::Choice { delta, finish } => {
                    let choice = json!({"index": 0, "delta": delta, "finish_reason": finish});
                    let mut chunk = self.chunk(vec![choice]);
                    if with_usage {
                        chunk["usage"] = Value::Null;
                    }
                    sse_data(&chunk)
                }
            })
            .collect();
        if let Some(usage) = self.usage {
            let mut chunk = self.chunk(Vec::new());
            chunk["usage"] = usage.to_json();
            chunks.push(sse_data(&chunk));
        }
        chunks
    }

    fn chunk(&self, choices: Vec<Value>) -> Value {
        json!({
            "id": COMPLETION_ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "choices": choices,
        })
    }
}

/// `text` in `pieces` parts of nearly equal length, cut at character boundaries (fewer parts
/// when the text is short; none when it is empty).
fn split_text(text: &str, pieces: usize) -> Vec<&str> {
    let chars: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let pieces = pieces.clamp(1, chars.len().max(1));
    let mut parts = Vec::with_capacity(pieces);
    let mut start = 0;
    for k in 1..=pieces {
        let end = chars
            .get(k * chars.len() / pieces)
            .copied()
            .unwrap_or(text.len());
        if let Some(part) = text.get(start..end) {
            if !part.is_empty() {
                parts.push(part);
            }
        }
        start = end;
    }
    parts
}

/// A text answer streamed as `pieces`, `finish_reason: "stop"`, with the usage chunk when
/// `usage` is given (the client asked `include_usage`), then `[DONE]`.
pub fn stream_text(model: &str, pieces: &[&str], usage: Option<Usage>) -> Vec<Bytes> {
    let builder = StreamBuilder::new(model).content(pieces).finish("stop");
    match usage {
        Some(usage) => builder.usage(usage).done(),
        None => builder.done(),
    }
}

/// Two parallel calls, `get_weather` for Paris (index 0) and Tokyo (index 1), their argument
/// fragments interleaved; `finish_reason: "tool_calls"` and a usage chunk.
pub fn stream_parallel_tool_calls(model: &str) -> Vec<Bytes> {
    let calls = [
        ToolCall::new("call_7Yq", "get_weather", r#"{"city":"Paris"}"#),
        ToolCall::new("call_8Zr", "get_weather", r#"{"city":"Tokyo"}"#),
    ];
    StreamBuilder::new(model)
        .parallel_tool_calls(&calls, 3)
        .finish("tool_calls")
        .usage(Usage::new(82, 34))
        .done()
}

/// A DeepSeek thinking-mode stream: `reasoning_content` deltas, then `content` deltas,
/// `finish_reason: "stop"`, usage with reasoning tokens, `[DONE]`.
pub fn stream_reasoning_content(model: &str, reasoning: &[&str], text: &[&str]) -> Vec<Bytes> {
    let completion = (reasoning.len() + text.len()) as u64;
    StreamBuilder::new(model)
        .reasoning_content(reasoning)
        .content(text)
        .finish("stop")
        .usage(Usage::new(20, completion).with_reasoning(reasoning.len() as u64))
        .done()
}
