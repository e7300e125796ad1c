//! Ollama's `/api/chat` answer as it arrives: the non-streamed body and every NDJSON line of a
//! stream share this one shape (a stream's last line is the non-streamed body without content).
//!
//! Every field is optional and `null` is absent, so older and newer servers decode alike; unknown
//! fields (`created_at`, the durations, `logprobs`, …) are ignored.

use serde::Deserialize;
use serde_json::Value;

use super::shared::{arguments_from_wire, error_text, new_call_id};
use crate::messages::{ContentPart, JsonObject, Usage};

/// One answer object: a stream line or a whole non-streamed answer.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChatChunk {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub message: Option<ChunkMessage>,
    #[serde(default)]
    pub done: Option<bool>,
    #[serde(default)]
    pub done_reason: Option<String>,
    #[serde(default)]
    pub prompt_eval_count: Option<u64>,
    #[serde(default)]
    pub eval_count: Option<u64>,
    /// Set instead of everything else when the request failed (also mid-stream, after HTTP 200).
    #[serde(default)]
    pub error: Option<Value>,
}

/// The assistant message of an answer object.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChunkMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<WireToolCall>>,
}

/// `{id?, function:{index?, name, arguments}}`; `id` exists only on newer servers.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<WireFunction>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireFunction {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<Value>,
}

impl ChatChunk {
    /// The failure this object reports, if it is an error object.
    pub fn error_message(&self) -> Option<String> {
        self.error.as_ref().and_then(error_text)
    }

    /// Whether this is the last object of the answer.
    pub fn is_done(&self) -> bool {
        self.done == Some(true)
    }

    /// The token counts. Ollama omits a count that is zero, so a missing one is 0.
    pub fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.prompt_eval_count.unwrap_or(0),
            output_tokens: self.eval_count.unwrap_or(0),
            ..Usage::default()
        }
    }
}

impl WireToolCall {
    /// The call in unified form: `(id, name, arguments)`, with an id generated when the server
    /// sent none (older servers) so the client can answer it.
    pub fn into_parts(self) -> (String, String, Value) {
        let id = self
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(new_call_id);
        let function = self.function.unwrap_or_default();
        (
            id,
            function.name.unwrap_or_default(),
            arguments_from_wire(function.arguments),
        )
    }

    /// The call as a unified content part.
    pub fn into_part(self) -> ContentPart {
        let (id, name, arguments) = self.into_parts();
        ContentPart::ToolCall {
            id,
            name,
            arguments,
            extra: JsonObject::new(),
        }
    }
}
