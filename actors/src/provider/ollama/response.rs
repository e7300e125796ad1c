//! Ollama's non-streamed `/api/chat` answer (`stream:false`): one `done:true` object holding the
//! whole message, in both directions.

use serde_json::{json, Value};

use super::clock::now_rfc3339;
use super::shared::{
    arguments_object, check_completion, done_reason, new_message_id, stop_reason, truncate,
    upstream, MAX_RAW_ERROR_CHARS,
};
use super::types::ChatChunk;
use crate::error::ProviderError;
use crate::messages::{ChatResponse, ContentPart, JsonObject, Usage};

/// The unified answer for a non-streamed body. Parts come as thinking, text, then the tool calls
/// (ids generated for servers that send none); tool calls make the stop reason `ToolUse`, since
/// Ollama says `stop` for them. A `{"error": …}` body, a `load`/`unload` answer (no completion)
/// and anything that is not an answer object are errors.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, ProviderError> {
    let chunk: ChatChunk = serde_json::from_slice(body).map_err(|e| {
        upstream(format!(
            "Ollama's /api/chat answer is not one JSON answer object ({e}; was it streamed?): {}",
            truncate(&String::from_utf8_lossy(body), MAX_RAW_ERROR_CHARS)
        ))
    })?;
    if let Some(message) = chunk.error_message() {
        return Err(upstream(format!("Ollama failed: {message}")));
    }
    check_completion(chunk.done_reason.as_deref())?;
    let usage = answer_usage(&chunk);
    let message = chunk.message.unwrap_or_default();
    let mut content = Vec::new();
    if let Some(thinking) = message.thinking.filter(|t| !t.is_empty()) {
        content.push(ContentPart::Thinking {
            text: thinking,
            signature: None,
        });
    }
    if let Some(text) = message.content.filter(|t| !t.is_empty()) {
        content.push(ContentPart::text(text));
    }
    let calls = message.tool_calls.unwrap_or_default();
    let saw_tool_calls = !calls.is_empty();
    content.extend(calls.into_iter().map(|call| call.into_part()));
    Ok(ChatResponse {
        id: new_message_id(),
        model: chunk.model.unwrap_or_default(),
        content,
        stop_reason: stop_reason(chunk.done_reason.as_deref(), saw_tool_calls),
        stop_sequence: None,
        usage,
        request_id: None,
    })
}

/// Usage of a final object. Ollama leaves out counts that are zero, so a `done:true` object always
/// has usage (missing counts are 0); an object that is not final has usage only if it says so.
fn answer_usage(chunk: &ChatChunk) -> Option<Usage> {
    let reported = chunk.prompt_eval_count.is_some() || chunk.eval_count.is_some();
    (chunk.is_done() || reported).then(|| chunk.usage())
}

/// The final `done:true` object an Ollama client expects for `resp`.
pub fn encode_response(resp: &ChatResponse) -> Value {
    let mut message = JsonObject::new();
    message.insert("role".into(), json!("assistant"));
    message.insert("content".into(), json!(resp.text()));
    let thinking = crate::messages::joined_thinking(&resp.content);
    if !thinking.is_empty() {
        message.insert("thinking".into(), json!(thinking));
    }
    let calls: Vec<Value> = resp
        .tool_calls()
        .enumerate()
        .map(|(index, (id, name, arguments))| tool_call_value(index, id, name, arguments))
        .collect();
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    let mut body = JsonObject::new();
    body.insert("model".into(), json!(resp.model));
    body.insert("created_at".into(), json!(now_rfc3339()));
    body.insert("message".into(), Value::Object(message));
    body.insert("done".into(), json!(true));
    body.insert("done_reason".into(), json!(done_reason(&resp.stop_reason)));
    if let Some(usage) = resp.usage {
        body.insert("prompt_eval_count".into(), json!(usage.input_tokens));
        body.insert("eval_count".into(), json!(usage.output_tokens));
    }
    Value::Object(body)
}

/// One call in Ollama's form, `{id, function:{index, name, arguments}}`. Arguments that are not a
/// JSON object (raw text an upstream sent as invalid JSON) are passed on as they are: there is no
/// honest object to make of them, and the client is better placed to report them.
pub(super) fn tool_call_value(index: usize, id: &str, name: &str, arguments: &Value) -> Value {
    let arguments = arguments_object(arguments).map_or_else(|| arguments.clone(), Value::Object);
    json!({
        "id": id,
        "function": {"index": index, "name": name, "arguments": arguments},
    })
}
