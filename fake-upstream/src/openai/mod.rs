//! OpenAI Chat Completions bodies, errors and streams, as the API writes them
//! (PROTOCOLS.md §2.3–2.7), plus the compatible services' variants (DeepSeek's
//! `reasoning_content`, Ollama's `/v1` `reasoning`).
//!
//! Usage follows the wire: `prompt_tokens` includes `cached_tokens`, `completion_tokens` includes
//! `reasoning_tokens`.

mod stream;

pub use stream::{
    stream_parallel_tool_calls, stream_reasoning_content, stream_text, StreamBuilder,
};

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::frame::sse_data;
use crate::reply::Reply;

/// The model id canned replies report.
pub const MODEL: &str = "gpt-4.1-2025-04-14";
/// The completion id shared by a canned reply and all chunks of a canned stream.
pub const COMPLETION_ID: &str = "chatcmpl-B9MHDbfake";
/// The `created` timestamp of canned replies.
pub const CREATED: u64 = 1_767_225_600;
/// The `x-request-id` header of canned replies.
pub const REQUEST_ID: &str = "req_8f1cfake";

/// Token counts as OpenAI reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// All input tokens, cached ones included.
    pub prompt_tokens: u64,
    /// All output tokens, reasoning ones included.
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Prompt and completion tokens, nothing cached, no reasoning.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Usage {
        Usage {
            prompt_tokens,
            completion_tokens,
            ..Usage::default()
        }
    }

    /// The same with `cached` of the prompt tokens read from cache.
    pub fn with_cached(self, cached: u64) -> Usage {
        Usage {
            cached_tokens: cached,
            ..self
        }
    }

    /// The same with `reasoning` of the completion tokens spent reasoning.
    pub fn with_reasoning(self, reasoning: u64) -> Usage {
        Usage {
            reasoning_tokens: reasoning,
            ..self
        }
    }

    /// The `usage` object, `total_tokens` and both details included.
    pub fn to_json(self) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens, "audio_tokens": 0},
        })
    }
}

/// One function call: `arguments` is the JSON text exactly as sent (it may be invalid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

impl ToolCall {
    pub fn new(id: &str, name: &str, arguments: &str) -> ToolCall {
        ToolCall {
            id: id.to_owned(),
            name: name.to_owned(),
            arguments: arguments.to_owned(),
        }
    }

    /// The `tool_calls[]` item of a non-streamed message.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        })
    }
}

/// A complete non-streamed completion with any assistant `message` and finish reason.
pub fn completion_with(model: &str, message: Value, finish_reason: &str, usage: Usage) -> Value {
    json!({
        "id": COMPLETION_ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_8b2f4c1a",
        "service_tier": "default",
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": usage.to_json(),
    })
}

/// A plain text answer (`finish_reason: "stop"`).
pub fn completion(text: &str, usage: Usage) -> Value {
    let message = json!({"role": "assistant", "content": text, "refusal": null, "annotations": []});
    completion_with(MODEL, message, "stop", usage)
}

/// An answer that calls tools: `content: null`, `tool_calls`, `finish_reason: "tool_calls"`.
pub fn tool_calls_completion(calls: &[ToolCall], usage: Usage) -> Value {
    let calls: Vec<Value> = calls.iter().map(ToolCall::to_json).collect();
    let message = json!({
        "role": "assistant", "content": null, "refusal": null, "annotations": [], "tool_calls": calls,
    });
    completion_with(MODEL, message, "tool_calls", usage)
}

/// A DeepSeek thinking-mode answer: `reasoning_content` beside `content`.
pub fn reasoning_completion(reasoning: &str, text: &str, usage: Usage) -> Value {
    let message = json!({"role": "assistant", "content": text, "reasoning_content": reasoning});
    completion_with("deepseek-v4-pro", message, "stop", usage)
}

/// A 200 JSON reply with OpenAI's `x-request-id` header.
pub fn reply(body: Value) -> Reply {
    Reply::json(200, body).header("x-request-id", REQUEST_ID)
}

/// The `GET /v1/models` list of `ids`.
pub fn models(ids: &[&str]) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": CREATED, "owned_by": "system"}))
        .collect();
    json!({"object": "list", "data": data})
}

/// The error body: `{"error":{"message","type","param","code"}}`.
pub fn error_body(error_type: &str, code: Option<&str>, message: &str) -> Value {
    json!({"error": {"message": message, "type": error_type, "param": null, "code": code}})
}

/// An error reply with any status, `type` and `code`.
pub fn error(status: u16, error_type: &str, code: Option<&str>, message: &str) -> Reply {
    Reply::json(status, error_body(error_type, code, message)).header("x-request-id", REQUEST_ID)
}

/// 401 `invalid_api_key`; the message shows a masked fake key, never a real one.
pub fn invalid_api_key() -> Reply {
    let message = "Incorrect API key provided: sk-fake*****1234. You can find your API key at https://platform.openai.com/account/api-keys.";
    error(
        401,
        "invalid_request_error",
        Some("invalid_api_key"),
        message,
    )
}

/// 404 `model_not_found`.
pub fn model_not_found(model: &str) -> Reply {
    let message = format!("The model `{model}` does not exist or you do not have access to it.");
    error(
        404,
        "invalid_request_error",
        Some("model_not_found"),
        &message,
    )
}

/// 429 `rate_limit_exceeded` (retryable) with both `retry-after` (whole seconds, rounded up)
/// and `retry-after-ms`.
pub fn rate_limited(retry_after: Duration) -> Reply {
    let millis = retry_after.as_millis();
    let seconds = millis.div_ceil(1000);
    let message = format!(
        "Rate limit reached for requests. Please try again in {:.1}s.",
        retry_after.as_secs_f64()
    );
    error(429, "requests", Some("rate_limit_exceeded"), &message)
        .header("retry-after", &seconds.to_string())
        .header("retry-after-ms", &millis.to_string())
}

/// 429 `insufficient_quota`: a billing failure that must not be retried despite the status.
pub fn insufficient_quota() -> Reply {
    let message = "You exceeded your current quota, please check your plan and billing details.";
    error(
        429,
        "insufficient_quota",
        Some("insufficient_quota"),
        message,
    )
}

/// 500 `server_error`.
pub fn server_error() -> Reply {
    let message = "The server had an error while processing your request. Sorry about that!";
    error(500, "server_error", None, message)
}

/// 503 `server_is_overloaded`.
pub fn overloaded() -> Reply {
    let message = "The engine is currently overloaded, please try again later.";
    error(503, "server_error", Some("server_is_overloaded"), message)
}

/// The mid-stream error (after HTTP 200): `data: {"error":{...}}`.
pub fn error_chunk(error_type: &str, code: Option<&str>, message: &str) -> Bytes {
    sse_data(&error_body(error_type, code, message))
}
