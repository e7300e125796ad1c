//! The client direction: the body a client sends to Moxxy's `/v1/messages`, as a unified request.
//!
//! Every error is an `invalid_request_error` whose `param` is the path of the field at fault and
//! whose message says what to send instead. Top-level fields Moxxy does not model, and the
//! unmodelled keys of the objects it does (`thinking.display`, `metadata.*`, …), are kept in
//! `extra` so an Anthropic upstream receives them unchanged.

use serde_json::Value;

use super::blocks::{decode_block, Decoded};
use super::json::{invalid, Obj};
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{
    ChatRequest, ContentPart, JsonObject, Message, Reasoning, ResponseFormat, Role, Tool,
    ToolChoice, WireProtocol,
};

/// The top-level fields mapped to the unified request; the others go to `extra`.
const MODELLED: &[&str] = &[
    "model",
    "max_tokens",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "thinking",
    "output_config",
    "stream",
];

/// Parses an Anthropic Messages request. `include_usage` is always set: Anthropic streams always
/// report usage, so its clients expect it.
pub fn decode_request(body: &[u8]) -> Result<ChatRequest, ProviderError> {
    if std::str::from_utf8(body).is_err() {
        return Err(ProviderError::new(
            ErrorKind::InvalidRequest,
            "request body: not valid UTF-8 - send JSON text in UTF-8",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ProviderError::new(
            ErrorKind::InvalidRequest,
            format!("request body: not valid JSON ({e})"),
        )
    })?;
    if !value.is_object() {
        return Err(ProviderError::new(
            ErrorKind::InvalidRequest,
            "request body: expected a JSON object",
        ));
    }
    let top = Obj::new(&value, "")?;
    let model = top.req_str("model")?.to_string();
    let max_tokens = top.req_u32("max_tokens")?;
    let mut extra = top.rest(MODELLED);

    let mut messages = decode_system(&top)?;
    messages.extend(decode_messages(&top)?);
    let (tool_choice, parallel_tool_calls) = decode_tool_choice(&top, &mut extra)?;
    let user = decode_metadata(&top, &mut extra)?;
    let (reasoning, response_format) = decode_reasoning(&top, &mut extra)?;
    let stop = match top.opt_array("stop_sequences")? {
        None => Vec::new(),
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(&format!("stop_sequences[{i}]"), "expected a string"))
            })
            .collect::<Result<_, _>>()?,
    };
    let tools = match top.opt_array("tools")? {
        None => Vec::new(),
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, t)| decode_tool(t, &format!("tools[{i}]")))
            .collect::<Result<_, _>>()?,
    };

    Ok(ChatRequest {
        model,
        max_tokens: Some(max_tokens),
        messages,
        temperature: top.opt_f64("temperature")?,
        top_p: top.opt_f64("top_p")?,
        top_k: top.opt_u32("top_k")?,
        stop,
        tools,
        tool_choice,
        parallel_tool_calls,
        reasoning,
        response_format,
        user,
        stream: top.opt_bool("stream")?.unwrap_or(false),
        include_usage: true,
        extra,
        extra_protocol: Some(WireProtocol::Anthropic),
    })
}

/// `system` as one system message: a string, or text blocks (each keeps its `cache_control`).
fn decode_system(top: &Obj<'_>) -> Result<Vec<Message>, ProviderError> {
    let content = match top.opt("system") {
        None => return Ok(Vec::new()),
        Some(Value::String(text)) => vec![ContentPart::text(text.clone())],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("system[{i}]");
                match decode_block(item, &path)? {
                    Decoded::Part(part @ ContentPart::Text { .. }) => Ok(part),
                    _ => Err(invalid(&path, "expected a text block")),
                }
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(invalid(
                "system",
                "expected a string or an array of text blocks",
            ))
        }
    };
    Ok(vec![Message {
        role: Role::System,
        content,
        name: None,
        extra: JsonObject::new(),
    }])
}

fn decode_messages(top: &Obj<'_>) -> Result<Vec<Message>, ProviderError> {
    let items = top.req_array("messages")?;
    if items.is_empty() {
        return Err(invalid("messages", "at least one message is required"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| decode_message(item, &format!("messages[{i}]")))
        .collect()
}

fn decode_message(value: &Value, path: &str) -> Result<Message, ProviderError> {
    let message = Obj::new(value, path)?;
    let role = match message.req_str("role")? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        // Accepted because newer SDKs allow it mid-conversation; hoisted again upstream.
        "system" => Role::System,
        _ => {
            return Err(invalid(
                &message.path_of("role"),
                "expected \"user\" or \"assistant\"",
            ))
        }
    };
    let content = match message.req("content")? {
        Value::String(text) => vec![ContentPart::text(text.clone())],
        Value::Array(blocks) => blocks
            .iter()
            .enumerate()
            .map(|(j, block)| {
                let block_path = format!("{}[{j}]", message.path_of("content"));
                match decode_block(block, &block_path)? {
                    Decoded::Part(part) => Ok(part),
                    Decoded::Unknown(kind) => Err(invalid(
                        &format!("{block_path}.type"),
                        &format!(
                            "unsupported block type '{kind}'; Moxxy accepts text, image, \
                             tool_use, tool_result, thinking and redacted_thinking"
                        ),
                    )),
                }
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(invalid(
                &message.path_of("content"),
                "expected a string or an array of blocks",
            ))
        }
    };
    Ok(Message {
        role,
        content,
        name: None,
        extra: message.rest(&["role", "content"]),
    })
}

/// A tool. Anthropic's server tools (`{"type": "web_search_…", "name": …}`) have no schema: their
/// `type` and settings travel in `extra` and `parameters` is `null`.
fn decode_tool(value: &Value, path: &str) -> Result<Tool, ProviderError> {
    let tool = Obj::new(value, path)?;
    let server_tool = tool.opt_str("type")?.is_some_and(|t| t != "custom");
    let parameters = if server_tool {
        tool.opt("input_schema").cloned().unwrap_or(Value::Null)
    } else {
        let schema = tool.req("input_schema")?;
        if !schema.is_object() {
            return Err(invalid(
                &tool.path_of("input_schema"),
                "expected a JSON Schema object",
            ));
        }
        schema.clone()
    };
    Ok(Tool {
        name: tool.req_str("name")?.to_string(),
        description: tool.opt_str("description")?.map(str::to_string),
        parameters,
        strict: tool.opt_bool("strict")?,
        extra: tool.rest(&["name", "description", "input_schema", "strict"]),
    })
}

/// `tool_choice`, and whether parallel calls are allowed. A choice type this version does not
/// know is kept whole in `extra`.
fn decode_tool_choice(
    top: &Obj<'_>,
    extra: &mut JsonObject,
) -> Result<(Option<ToolChoice>, Option<bool>), ProviderError> {
    let Some(choice) = top.opt_obj("tool_choice")? else {
        return Ok((None, None));
    };
    let kind = match choice.req_str("type")? {
        "auto" => ToolChoice::Auto,
        "any" => ToolChoice::Required,
        "none" => ToolChoice::None,
        "tool" => ToolChoice::Tool {
            name: choice.req_str("name")?.to_string(),
        },
        _ => {
            keep(extra, "tool_choice", choice.rest(&[]));
            return Ok((None, None));
        }
    };
    let parallel = match choice.opt_bool("disable_parallel_tool_use")? {
        Some(true) => Some(false),
        _ => None,
    };
    keep(
        extra,
        "tool_choice",
        choice.rest(&["type", "name", "disable_parallel_tool_use"]),
    );
    Ok((Some(kind), parallel))
}

fn decode_metadata(top: &Obj<'_>, extra: &mut JsonObject) -> Result<Option<String>, ProviderError> {
    let Some(metadata) = top.opt_obj("metadata")? else {
        return Ok(None);
    };
    keep(extra, "metadata", metadata.rest(&["user_id"]));
    Ok(metadata.opt_str("user_id")?.map(str::to_string))
}

/// `thinking` and `output_config` as reasoning and an output format.
///
/// Adaptive thinking with an effort, or an effort alone, is [`Reasoning::Effort`]; with a fixed
/// budget or thinking off, an effort is kept in `extra` (the unified type holds one of the two).
fn decode_reasoning(
    top: &Obj<'_>,
    extra: &mut JsonObject,
) -> Result<(Option<Reasoning>, Option<ResponseFormat>), ProviderError> {
    let mut output_rest = JsonObject::new();
    let mut effort = None;
    let mut format = None;
    if let Some(config) = top.opt_obj("output_config")? {
        output_rest = config.rest(&["effort", "format"]);
        effort = config.opt_str("effort")?.map(str::to_string);
        if let Some(f) = config.opt_obj("format")? {
            let format_rest = if f.req_str("type")? == "json_schema" {
                format = Some(ResponseFormat::JsonSchema {
                    name: "response".into(),
                    schema: f.req("schema")?.clone(),
                    strict: None,
                });
                f.rest(&["type", "schema"])
            } else {
                f.rest(&[])
            };
            keep(&mut output_rest, "format", format_rest);
        }
    }

    let thinking = match top.opt_obj("thinking")? {
        None => None,
        Some(t) => {
            let thinking = match t.req_str("type")? {
                "enabled" => Some(Reasoning::Budget {
                    tokens: t.req_u32("budget_tokens")?,
                }),
                "adaptive" => Some(Reasoning::Adaptive),
                "disabled" => Some(Reasoning::Disabled),
                _ => None,
            };
            // A type this version does not know travels whole; a known one leaves only the
            // keys it does not model (`display`).
            let rest = match thinking {
                Some(_) => t.rest(&["type", "budget_tokens"]),
                None => t.rest(&[]),
            };
            keep(extra, "thinking", rest);
            thinking
        }
    };

    let reasoning = match (thinking, effort) {
        (None | Some(Reasoning::Adaptive), Some(level)) => Some(Reasoning::Effort { level }),
        (thinking, Some(level)) => {
            output_rest.insert("effort".into(), Value::String(level));
            thinking
        }
        (thinking, None) => thinking,
    };
    keep(extra, "output_config", output_rest);
    Ok((reasoning, format))
}

/// Stores the unmodelled keys of an object field in `extra`, if there are any.
fn keep(extra: &mut JsonObject, key: &str, rest: JsonObject) {
    if !rest.is_empty() {
        extra.insert(key.to_string(), Value::Object(rest));
    }
}
