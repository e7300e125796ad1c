//! Anthropic content blocks to and from unified content parts, shared by requests and responses
//! in both directions.

use serde_json::{json, Value};

use super::json::Obj;
use crate::error::ProviderError;
use crate::messages::{ContentPart, ImageSource, JsonObject, WireProtocol};

/// Block fields Moxxy forwards to Anthropic whatever protocol the client spoke: prompt-cache
/// breakpoints (OpenAI-style clients send them too) and a text block's citations.
const PORTABLE_FIELDS: &[&str] = &["cache_control", "citations"];

/// Which pass-through fields of a part may go into an Anthropic block.
///
/// Part-level `extra` maps hold fields of the protocol the request came from. Sent to Anthropic
/// they are forwarded whole only when that protocol was Anthropic; otherwise only
/// [`PORTABLE_FIELDS`] go, so e.g. Gemini's `extra_content` on a tool call never reaches
/// Anthropic (which rejects unknown fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Extras {
    All,
    Portable,
}

impl Extras {
    /// The policy for a request whose pass-through fields came from `protocol`.
    pub(super) fn for_protocol(protocol: Option<WireProtocol>) -> Self {
        if protocol == Some(WireProtocol::Anthropic) {
            Extras::All
        } else {
            Extras::Portable
        }
    }

    /// Adds the allowed fields of `extra` that `block` does not already set.
    pub(super) fn apply(self, block: &mut JsonObject, extra: &JsonObject) {
        for (key, value) in extra {
            let allowed = self == Extras::All || PORTABLE_FIELDS.contains(&key.as_str());
            if allowed && !block.contains_key(key) {
                block.insert(key.clone(), value.clone());
            }
        }
    }
}

fn with_extra(block: Value, extra: &JsonObject, extras: Extras) -> Value {
    match block {
        Value::Object(mut map) => {
            extras.apply(&mut map, extra);
            Value::Object(map)
        }
        other => other,
    }
}

pub(super) fn text_block(text: &str, extra: &JsonObject, extras: Extras) -> Value {
    with_extra(json!({"type": "text", "text": text}), extra, extras)
}

pub(super) fn image_block(source: &ImageSource, extra: &JsonObject, extras: Extras) -> Value {
    let source = match source {
        ImageSource::Base64 { media_type, data } => {
            json!({"type": "base64", "media_type": media_type, "data": data})
        }
        ImageSource::Url { url } => json!({"type": "url", "url": url}),
    };
    with_extra(json!({"type": "image", "source": source}), extra, extras)
}

/// A thinking block; `signature` is sent exactly as received.
pub(super) fn thinking_block(text: &str, signature: &str) -> Value {
    json!({"type": "thinking", "thinking": text, "signature": signature})
}

pub(super) fn redacted_block(data: &str) -> Value {
    json!({"type": "redacted_thinking", "data": data})
}

pub(super) fn tool_use_block(
    id: &str,
    name: &str,
    input: Value,
    extra: &JsonObject,
    extras: Extras,
) -> Value {
    with_extra(
        json!({"type": "tool_use", "id": id, "name": name, "input": input}),
        extra,
        extras,
    )
}

/// Tool-call arguments as the object Anthropic's `input` must be: an object as is, JSON object
/// text parsed, `null` or empty text as `{}`; anything else (an array, a number, text that is not
/// a JSON object) has no faithful Anthropic form and gives `None`.
pub(super) fn tool_input(arguments: &Value) -> Option<Value> {
    match arguments {
        Value::Object(_) => Some(arguments.clone()),
        Value::Null => Some(json!({})),
        Value::String(text) if text.trim().is_empty() => Some(json!({})),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(parsed @ Value::Object(_)) => Some(parsed),
            _ => None,
        },
        _ => None,
    }
}

/// What a block decoded to: a part, or a block type Moxxy does not model (its name).
pub(super) enum Decoded {
    Part(ContentPart),
    Unknown(String),
}

/// Decodes one content block found at `path`. The caller decides what an unknown type or an
/// error means (an error for a client, a skipped block for an upstream).
pub(super) fn decode_block(value: &Value, path: &str) -> Result<Decoded, ProviderError> {
    let block = Obj::new(value, path)?;
    let part = match block.req_str("type")? {
        "text" => ContentPart::Text {
            text: block.req_str("text")?.to_string(),
            extra: block.rest(&["type", "text"]),
        },
        "image" => ContentPart::Image {
            source: decode_image_source(&block)?,
            detail: None,
            extra: block.rest(&["type", "source"]),
        },
        "thinking" => ContentPart::Thinking {
            text: block.req_str("thinking")?.to_string(),
            // An empty signature is no signature: it could never be replayed.
            signature: block
                .opt_str("signature")?
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        },
        "redacted_thinking" => ContentPart::RedactedThinking {
            data: block.req_str("data")?.to_string(),
        },
        "tool_use" => ContentPart::ToolCall {
            id: block.req_str("id")?.to_string(),
            name: block.req_str("name")?.to_string(),
            arguments: block.opt("input").cloned().unwrap_or_else(|| json!({})),
            extra: block.rest(&["type", "id", "name", "input"]),
        },
        "tool_result" => decode_tool_result(&block)?,
        other => return Ok(Decoded::Unknown(other.to_string())),
    };
    Ok(Decoded::Part(part))
}

fn decode_image_source(block: &Obj<'_>) -> Result<ImageSource, ProviderError> {
    let source = Obj::new(block.req("source")?, block.path_of("source"))?;
    match source.req_str("type")? {
        "base64" => Ok(ImageSource::Base64 {
            media_type: source.req_str("media_type")?.to_string(),
            data: source.req_str("data")?.to_string(),
        }),
        "url" => Ok(ImageSource::Url {
            url: source.req_str("url")?.to_string(),
        }),
        other => Err(super::json::invalid(
            &source.path_of("type"),
            &format!("unsupported image source type '{other}'; send \"base64\" or \"url\""),
        )),
    }
}

/// A `tool_result` block. Its `cache_control`, which the unified tool result has no field for, is
/// moved onto its last content block: the cache breakpoint then ends at the same place.
fn decode_tool_result(block: &Obj<'_>) -> Result<ContentPart, ProviderError> {
    let mut content = Vec::new();
    match block.opt("content") {
        None => {}
        Some(Value::String(text)) => content.push(ContentPart::text(text.clone())),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("{}[{i}]", block.path_of("content"));
                match decode_block(item, &path)? {
                    Decoded::Part(
                        part @ (ContentPart::Text { .. } | ContentPart::Image { .. }),
                    ) => content.push(part),
                    Decoded::Part(_) | Decoded::Unknown(_) => {
                        return Err(super::json::invalid(
                            &path,
                            "a tool result may hold only text and image blocks",
                        ))
                    }
                }
            }
        }
        Some(_) => {
            return Err(super::json::invalid(
                &block.path_of("content"),
                "expected a string or an array of blocks",
            ))
        }
    }
    if let Some(cache) = block.opt("cache_control") {
        if let Some(ContentPart::Text { extra, .. } | ContentPart::Image { extra, .. }) =
            content.last_mut()
        {
            extra
                .entry("cache_control")
                .or_insert_with(|| cache.clone());
        }
    }
    Ok(ContentPart::ToolResult {
        tool_call_id: block.req_str("tool_use_id")?.to_string(),
        name: None,
        content,
        is_error: block.opt_bool("is_error")?.unwrap_or(false),
    })
}
