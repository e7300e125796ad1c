//! Non-streamed answers both ways: an upstream's `chat.completion` to a [`ChatResponse`], and a
//! [`ChatResponse`] to the `chat.completion` a client of Moxxy receives.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::dialect::Dialect;
use super::error::error_in_value;
use super::types::{
    generate_id, is_refusal, map_finish, refusal_part, Finish, WireCompletion, WireToolCall,
    CAPACITY_MESSAGE,
};
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{
    arguments_to_text, parse_arguments, ChatResponse, ContentPart, StopReason, Usage,
};

/// Decodes an upstream's 2xx body.
///
/// Leading blank lines (DeepSeek's keep-alives) are skipped; a body that is an error object
/// becomes that error; DeepSeek's `insufficient_system_resource` is a retryable
/// [`ErrorKind::Overloaded`]. Reasoning comes first in `content`, then text, then tool calls.
pub fn decode_response(body: &[u8], _dialect: Dialect) -> Result<ChatResponse, ProviderError> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let completion = match WireCompletion::from_text(text) {
        Some(completion) => completion,
        // Not an answer: an error, or not JSON at all.
        None => {
            let value: Value = serde_json::from_str(text).map_err(|e| {
                ProviderError::new(
                    ErrorKind::Upstream,
                    format!("the upstream's answer is not JSON ({e})"),
                )
            })?;
            if let Some(error) = error_in_value(&value, "") {
                return Err(error);
            }
            WireCompletion::default()
        }
    };
    let id = completion
        .id
        .clone()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| generate_id("chatcmpl-"));
    let model = completion.model.clone().unwrap_or_default();
    let usage = completion.usage.as_ref().and_then(|u| u.to_usage());
    let choice = completion.into_first_choice().ok_or_else(|| {
        ProviderError::new(ErrorKind::Upstream, "the upstream's answer has no choices")
    })?;
    let message = choice.message.or(choice.delta).unwrap_or_default();

    let mut content = Vec::new();
    if let Some(thinking) = message.reasoning_text() {
        content.push(ContentPart::Thinking {
            text: thinking.to_string(),
            signature: None,
        });
    }
    let text = message.content_text();
    if !text.is_empty() {
        content.push(ContentPart::text(text));
    }
    if let Some(refusal) = message.refusal.as_deref().filter(|r| !r.is_empty()) {
        content.push(refusal_part(refusal));
    }
    let calls = message.tool_calls.unwrap_or_default();
    let saw_tool_calls = !calls.is_empty() || message.function_call.is_some();
    content.extend(calls.into_iter().map(tool_call_part));
    if let Some(function) = message.function_call {
        content.push(tool_call_part(WireToolCall {
            function: Some(function),
            ..WireToolCall::default()
        }));
    }

    let stop_reason = match choice.finish_reason.as_deref() {
        None if saw_tool_calls => StopReason::ToolUse,
        None => StopReason::EndTurn,
        Some(reason) => match map_finish(reason, saw_tool_calls) {
            Finish::Stop(reason) => reason,
            Finish::Overloaded => {
                let mut e = ProviderError::new(ErrorKind::Overloaded, CAPACITY_MESSAGE);
                e.upstream_type = Some(reason.to_string());
                return Err(e);
            }
        },
    };
    Ok(ChatResponse {
        id,
        model,
        content,
        stop_reason,
        stop_sequence: None,
        usage,
        request_id: None,
    })
}

/// A whole tool call; an empty or missing id is generated, arguments that are not JSON are kept
/// as their raw text.
fn tool_call_part(call: WireToolCall) -> ContentPart {
    let function = call.function.unwrap_or_default();
    let mut extra = call.extra;
    extra.remove("index");
    ContentPart::ToolCall {
        id: call
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| generate_id("call_")),
        name: function.name.clone().unwrap_or_default(),
        arguments: parse_arguments(&function.arguments_text()),
        extra,
    }
}

/// The `chat.completion` body for a client. Reasoning is returned as `message.reasoning_content`
/// (DeepSeek's field, which most OpenAI-style clients that show reasoning read); a refusal goes
/// to `refusal`; a Gemini thought signature stays on its tool call so the client echoes it.
pub fn encode_response(resp: &ChatResponse) -> Value {
    let mut text = String::new();
    let mut refusal = String::new();
    let mut thinking = String::new();
    let mut calls = Vec::new();
    for part in &resp.content {
        match part {
            ContentPart::Text { text: t, extra } if is_refusal(extra) => refusal.push_str(t),
            ContentPart::Text { text: t, .. } => text.push_str(t),
            ContentPart::Thinking { text: t, .. } => thinking.push_str(t),
            ContentPart::ToolCall {
                id,
                name,
                arguments,
                extra,
            } => {
                let mut call = Map::new();
                call.insert("id".into(), json!(id));
                call.insert("type".into(), json!("function"));
                call.insert(
                    "function".into(),
                    json!({"name": name, "arguments": arguments_to_text(arguments)}),
                );
                for (k, v) in extra {
                    call.entry(k.clone()).or_insert_with(|| v.clone());
                }
                calls.push(Value::Object(call));
            }
            _ => {}
        }
    }
    let non_empty = |s: String| if s.is_empty() { Value::Null } else { json!(s) };
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    message.insert("content".into(), non_empty(text));
    if !thinking.is_empty() {
        message.insert("reasoning_content".into(), json!(thinking));
    }
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    message.insert("refusal".into(), non_empty(refusal));

    let mut body = Map::new();
    body.insert("id".into(), json!(completion_id(&resp.id)));
    body.insert("object".into(), json!("chat.completion"));
    body.insert("created".into(), json!(unix_now()));
    body.insert("model".into(), json!(resp.model));
    body.insert(
        "choices".into(),
        json!([{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(&resp.stop_reason),
        }]),
    );
    if let Some(usage) = &resp.usage {
        body.insert("usage".into(), usage_json(usage));
    }
    Value::Object(body)
}

/// An id in OpenAI's `chatcmpl-…` form: kept when it has it, prefixed when it has another.
pub(super) fn completion_id(id: &str) -> String {
    if id.is_empty() {
        generate_id("chatcmpl-")
    } else if id.starts_with("chatcmpl-") {
        id.to_string()
    } else {
        format!("chatcmpl-{id}")
    }
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// OpenAI's `finish_reason` for a stop reason. Reasons OpenAI has no name for (Anthropic's
/// `pause_turn`, unknown ones) are `stop`.
pub(super) fn finish_reason(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::MaxTokens => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::ContentFilter => "content_filter",
        StopReason::EndTurn
        | StopReason::StopSequence
        | StopReason::Paused
        | StopReason::Other(_) => "stop",
    }
}

/// OpenAI's `usage` object: cached tokens are inside `prompt_tokens`, reasoning inside
/// `completion_tokens`, as in the unified [`Usage`].
pub(super) fn usage_json(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    })
}
