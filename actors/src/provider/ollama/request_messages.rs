//! Unified messages to Ollama's `messages[]`.
//!
//! Ollama's message is flat: one `content` string, `images` of raw base64, the assistant's
//! `thinking` and `tool_calls`; a tool result is its own `{role:"tool", content, tool_name,
//! tool_call_id}` message. So text parts are joined, and every tool result (from a `Tool` message
//! or, the Anthropic way, a `User` message) becomes one tool message, placed before the rest of its
//! message because it answers the previous assistant turn.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::shared::{arguments_object, invalid};
use crate::error::ProviderError;
use crate::messages::{joined_text, ContentPart, ImageSource, JsonObject, Message, Role};

/// The `messages` array for `messages`.
pub(super) fn encode_messages(messages: &[Message]) -> Result<Vec<Value>, ProviderError> {
    // Ollama wants a tool result's tool name, which other protocols do not carry: remember the
    // name of every call made so far, by id.
    let mut call_names: HashMap<&str, &str> = HashMap::new();
    let mut out = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        encode_message(i, message, &mut call_names, &mut out)?;
    }
    Ok(out)
}

fn encode_message<'a>(
    i: usize,
    message: &'a Message,
    call_names: &mut HashMap<&'a str, &'a str>,
    out: &mut Vec<Value>,
) -> Result<(), ProviderError> {
    let mut text = String::new();
    let mut thinking = String::new();
    let mut images = Vec::new();
    let mut calls = Vec::new();
    let mut results = Vec::new();
    for part in &message.content {
        match part {
            ContentPart::Text { text: t, .. } => text.push_str(t),
            ContentPart::Image { source, .. } => images.push(image_data(i, source)?),
            ContentPart::Thinking { text: t, .. } => thinking.push_str(t),
            // Anthropic's encrypted reasoning means nothing to another model.
            ContentPart::RedactedThinking { .. } => {}
            ContentPart::ToolCall {
                id,
                name,
                arguments,
                ..
            } => {
                call_names.insert(id, name);
                calls.push(encode_call(i, id, name, arguments)?);
            }
            ContentPart::ToolResult {
                tool_call_id,
                name,
                content,
                ..
            } => {
                let name = name
                    .as_deref()
                    .or_else(|| call_names.get(tool_call_id.as_str()).copied());
                results.push(encode_result(i, tool_call_id, name, content)?);
            }
        }
    }

    let has_results = !results.is_empty();
    out.extend(results);
    let has_own =
        !(text.is_empty() && images.is_empty() && calls.is_empty() && thinking.is_empty());
    if !has_own && has_results {
        return Ok(());
    }
    let mut wire = JsonObject::new();
    wire.insert("role".into(), json!(role_name(message.role)));
    wire.insert("content".into(), json!(text));
    if !images.is_empty() {
        wire.insert("images".into(), json!(images));
    }
    // Replaying reasoning is optional for Ollama; it is sent so templates that render it can.
    if message.role == Role::Assistant && !thinking.is_empty() {
        wire.insert("thinking".into(), json!(thinking));
    }
    if !calls.is_empty() {
        wire.insert("tool_calls".into(), Value::Array(calls));
    }
    out.push(Value::Object(wire));
    Ok(())
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

/// Raw base64 for an image; Ollama fetches nothing by URL.
fn image_data(i: usize, source: &ImageSource) -> Result<String, ProviderError> {
    match source {
        ImageSource::Base64 { data, .. } => Ok(data.clone()),
        ImageSource::Url { .. } => Err(invalid(
            format!("messages[{i}].images"),
            format!(
                "Ollama accepts only inline base64 images, not image URLs: message {i} has an \
                 image URL; send the image itself as base64 data"
            ),
        )),
    }
}

/// `{id?, function:{name, arguments: object}}`.
///
/// Ollama only takes arguments as a JSON object. Arguments that are not one (invalid JSON text
/// an earlier model produced, an array) are refused rather than wrapped or replaced: rewriting
/// them would show the model a call it never made, and the client can fix or drop the call.
fn encode_call(i: usize, id: &str, name: &str, arguments: &Value) -> Result<Value, ProviderError> {
    let Some(arguments) = arguments_object(arguments) else {
        return Err(invalid(
            format!("messages[{i}].tool_calls"),
            format!(
                "Ollama takes tool-call arguments only as a JSON object: the call to '{name}' in \
                 message {i} has arguments that are not one; fix or remove that call"
            ),
        ));
    };
    let mut call = JsonObject::new();
    if !id.is_empty() {
        call.insert("id".into(), json!(id));
    }
    call.insert(
        "function".into(),
        json!({"name": name, "arguments": Value::Object(arguments)}),
    );
    Ok(Value::Object(call))
}

/// `{role:"tool", content, images?, tool_name?, tool_call_id?}`. Ollama has no error flag for a
/// result; the content is sent as the tool produced it.
fn encode_result(
    i: usize,
    tool_call_id: &str,
    name: Option<&str>,
    content: &[ContentPart],
) -> Result<Value, ProviderError> {
    let mut wire = JsonObject::new();
    wire.insert("role".into(), json!("tool"));
    wire.insert("content".into(), json!(joined_text(content)));
    let images = content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Image { source, .. } => Some(image_data(i, source)),
            _ => None,
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !images.is_empty() {
        wire.insert("images".into(), json!(images));
    }
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        wire.insert("tool_name".into(), json!(name));
    }
    if !tool_call_id.is_empty() {
        wire.insert("tool_call_id".into(), json!(tool_call_id));
    }
    Ok(Value::Object(wire))
}
