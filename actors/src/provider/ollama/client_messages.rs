//! An Ollama client's `messages[]` to unified messages.
//!
//! Ollama clients may omit tool-call ids (older servers had none) while other protocols need them
//! to pair a result with its call. Calls without an id get a generated one, and a tool message
//! without `tool_call_id` is paired with the earliest unanswered call of the same `tool_name` (or,
//! without a name, the earliest unanswered call), which is how Ollama's templates read them.

use serde_json::Value;

use super::fields::{as_object, opt_array, opt_str, wrong_type};
use super::shared::{arguments_from_wire, invalid, new_call_id};
use crate::error::ProviderError;
use crate::messages::{ContentPart, ImageSource, JsonObject, Message, Role};

/// Calls made so far that no tool message has answered yet: `(id, name)`.
#[derive(Default)]
pub(super) struct OpenCalls(Vec<(String, String)>);

impl OpenCalls {
    /// The call a tool message answers, removed from the open ones: `(id, name)`.
    fn answer(&mut self, id: Option<&str>, name: Option<&str>) -> (String, Option<String>) {
        let position = match (id, name) {
            (Some(id), _) => self.0.iter().position(|(open, _)| open == id),
            (None, Some(name)) => self.0.iter().position(|(_, open)| open == name),
            (None, None) => (!self.0.is_empty()).then_some(0),
        };
        let found = position.map(|p| self.0.remove(p));
        let id = id
            .map(str::to_string)
            .or_else(|| found.as_ref().map(|(id, _)| id.clone()))
            .unwrap_or_else(new_call_id);
        let name = name
            .map(str::to_string)
            .or_else(|| found.map(|(_, name)| name));
        (id, name)
    }
}

/// The message at `messages[i]`.
pub(super) fn decode_message(
    i: usize,
    value: &Value,
    open_calls: &mut OpenCalls,
) -> Result<Message, ProviderError> {
    let path = format!("messages[{i}]");
    let object = as_object(value, &path)?;
    let role = match opt_str(object, "role", &format!("{path}.role"))? {
        Some("system") => Role::System,
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("tool") => Role::Tool,
        Some(other) => {
            return Err(invalid(
                format!("{path}.role"),
                format!("{path}.role must be system, user, assistant or tool, not \"{other}\""),
            ))
        }
        None => {
            return Err(invalid(
                format!("{path}.role"),
                format!("{path}.role is required (system, user, assistant or tool)"),
            ))
        }
    };
    let text = opt_str(object, "content", &format!("{path}.content"))?.unwrap_or("");
    let images = decode_images(object, &path)?;

    let content = if role == Role::Tool {
        let id = opt_str(object, "tool_call_id", &format!("{path}.tool_call_id"))?
            .filter(|id| !id.is_empty());
        let name = opt_str(object, "tool_name", &format!("{path}.tool_name"))?
            .filter(|name| !name.is_empty());
        let (tool_call_id, name) = open_calls.answer(id, name);
        vec![ContentPart::ToolResult {
            tool_call_id,
            name,
            content: with_text(text, images),
            is_error: false,
        }]
    } else {
        let mut parts = Vec::new();
        if let Some(thinking) = opt_str(object, "thinking", &format!("{path}.thinking"))? {
            if !thinking.is_empty() {
                parts.push(ContentPart::Thinking {
                    text: thinking.to_string(),
                    signature: None,
                });
            }
        }
        if !text.is_empty() {
            parts.push(ContentPart::text(text));
        }
        parts.extend(images);
        parts.extend(decode_calls(object, &path, open_calls)?);
        if parts.is_empty() {
            // An empty message stays a message with empty text, as the client sent it.
            parts.push(ContentPart::text(""));
        }
        parts
    };
    Ok(Message {
        role,
        content,
        name: None,
        extra: JsonObject::new(),
    })
}

/// A tool result's content: the text (when there is text, or nothing else), then the images.
fn with_text(text: &str, images: Vec<ContentPart>) -> Vec<ContentPart> {
    let mut parts = Vec::with_capacity(images.len() + 1);
    if !text.is_empty() || images.is_empty() {
        parts.push(ContentPart::text(text));
    }
    parts.extend(images);
    parts
}

/// `images`: raw base64 strings (a `data:` URL is accepted too).
fn decode_images(object: &JsonObject, path: &str) -> Result<Vec<ContentPart>, ProviderError> {
    let Some(items) = opt_array(object, "images", &format!("{path}.images"))? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .enumerate()
        .map(|(j, item)| {
            let Value::String(data) = item else {
                return Err(wrong_type(
                    &format!("{path}.images[{j}]"),
                    "a base64-encoded image",
                ));
            };
            let source = match ImageSource::from_url(data) {
                ImageSource::Url { .. } => ImageSource::Base64 {
                    media_type: sniff_media_type(data).to_string(),
                    data: data.clone(),
                },
                inline => inline,
            };
            Ok(ContentPart::Image {
                source,
                detail: None,
                extra: JsonObject::new(),
            })
        })
        .collect()
}

/// The media type of base64 image data, from the encoded magic bytes. Ollama does not need one,
/// the other protocols do; PNG is assumed when the format is not recognised.
fn sniff_media_type(data: &str) -> &'static str {
    const SIGNATURES: [(&str, &str); 4] = [
        ("/9j/", "image/jpeg"),
        ("iVBORw0KGgo", "image/png"),
        ("R0lGOD", "image/gif"),
        ("UklGR", "image/webp"),
    ];
    SIGNATURES
        .iter()
        .find(|(prefix, _)| data.starts_with(prefix))
        .map_or("image/png", |(_, media_type)| media_type)
}

/// `tool_calls`: `[{id?, function:{name, arguments}}]`; each call is recorded as open.
fn decode_calls(
    object: &JsonObject,
    path: &str,
    open_calls: &mut OpenCalls,
) -> Result<Vec<ContentPart>, ProviderError> {
    let Some(items) = opt_array(object, "tool_calls", &format!("{path}.tool_calls"))? else {
        return Ok(Vec::new());
    };
    let mut parts = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let call_path = format!("{path}.tool_calls[{j}]");
        let call = as_object(item, &call_path)?;
        let function_path = format!("{call_path}.function");
        let function = match call.get("function") {
            Some(value) => as_object(value, &function_path)?,
            None => {
                return Err(invalid(
                    function_path.clone(),
                    format!("{function_path} is required: {{\"name\": …, \"arguments\": {{…}}}}"),
                ))
            }
        };
        let name = match opt_str(function, "name", &format!("{function_path}.name"))? {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => {
                return Err(invalid(
                    format!("{function_path}.name"),
                    format!("{function_path}.name is required: the name of the tool called"),
                ))
            }
        };
        let id = opt_str(call, "id", &format!("{call_path}.id"))?
            .filter(|id| !id.is_empty())
            .map_or_else(new_call_id, str::to_string);
        open_calls.0.push((id.clone(), name.clone()));
        parts.push(ContentPart::ToolCall {
            id,
            name,
            arguments: arguments_from_wire(function.get("arguments").cloned()),
            extra: JsonObject::new(),
        });
    }
    Ok(parts)
}
