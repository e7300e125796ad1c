//! Client → Moxxy: a Chat Completions request body to a [`ChatRequest`].
//!
//! Every rejection is an [`ErrorKind::InvalidRequest`] whose `param` is the path of the field
//! (`messages[2].role`) and whose message says what to send instead, so a client can fix its
//! request without reading our code. Fields the unified request does not model (`n`, `seed`,
//! `logprobs`, `service_tier`, …) are kept in `extra` for an OpenAI upstream.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::types::refusal_part;
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{
    parse_arguments, ChatRequest, ContentPart, ImageSource, Message, Reasoning, ResponseFormat,
    Role, Tool, ToolChoice, WireProtocol,
};

type Result<T> = std::result::Result<T, ProviderError>;

const ROLES: &str = "system, developer, user, assistant, tool";

/// Parses a client's `/v1/chat/completions` body.
pub fn decode_request(body: &[u8]) -> Result<ChatRequest> {
    if std::str::from_utf8(body).is_err() {
        return Err(invalid(
            "",
            "the body is not valid UTF-8 - send JSON text in UTF-8",
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| invalid("", format!("the body is not valid JSON: {e}")))?;
    let mut root = Obj::new(value, String::new())?;
    let mut req = ChatRequest {
        model: root.required_string("model")?,
        ..ChatRequest::default()
    };
    let messages = root
        .array("messages")?
        .ok_or_else(|| invalid("messages", "messages: a list of messages is required"))?;
    if messages.is_empty() {
        return Err(invalid(
            "messages",
            "messages: expected at least one message",
        ));
    }
    let mut call_names = HashMap::new();
    for (i, m) in messages.into_iter().enumerate() {
        req.messages.push(message(
            Obj::new(m, format!("messages[{i}]"))?,
            &mut call_names,
        )?);
    }
    if let Some(tools) = root.array("tools")? {
        for (i, t) in tools.into_iter().enumerate() {
            req.tools.push(tool(Obj::new(t, format!("tools[{i}]"))?)?);
        }
    }
    req.tool_choice = root.take("tool_choice").map(tool_choice).transpose()?;
    req.parallel_tool_calls = root.bool("parallel_tool_calls")?;
    let max_completion = root.uint("max_completion_tokens")?;
    req.max_tokens = max_completion.or(root.uint("max_tokens")?);
    req.temperature = root.number("temperature")?;
    req.top_p = root.number("top_p")?;
    req.stop = match root.take("stop") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, s)| match s {
                Value::String(s) => Ok(s),
                _ => Err(invalid(
                    &format!("stop[{i}]"),
                    format!("stop[{i}]: expected a string"),
                )),
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(invalid(
                "stop",
                "stop: expected a string or a list of strings",
            ))
        }
    };
    req.stream = root.bool("stream")?.unwrap_or(false);
    if let Some(mut options) = root.object("stream_options")? {
        req.include_usage = options.bool("include_usage")?.unwrap_or(false);
    }
    req.reasoning = root
        .string("reasoning_effort")?
        .map(|level| match level.as_str() {
            "none" => Reasoning::Disabled,
            _ => Reasoning::Effort { level },
        });
    req.response_format = root
        .object("response_format")?
        .map(response_format)
        .transpose()?;
    req.user = root.string("user")?;
    req.extra = root.rest();
    req.extra_protocol = Some(WireProtocol::OpenAi);
    Ok(req)
}

fn invalid(param: &str, message: impl Into<String>) -> ProviderError {
    let mut e = ProviderError::new(ErrorKind::InvalidRequest, message);
    e.param = (!param.is_empty()).then(|| param.to_string());
    e
}

/// One JSON object being taken apart; what is left at the end is pass-through.
struct Obj {
    map: Map<String, Value>,
    path: String,
}

impl Obj {
    fn new(value: Value, path: String) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            _ if path.is_empty() => Err(invalid("", "the body must be a JSON object")),
            _ => Err(invalid(&path, format!("{path}: expected an object"))),
        }
    }

    fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn wrong(&self, key: &str, expected: &str) -> ProviderError {
        let path = self.path(key);
        invalid(&path, format!("{path}: expected {expected}"))
    }

    /// The fields nobody took, for pass-through; `null`s are absent and left out, so a
    /// vendor that rejects unknown fields is not sent `"seed": null`.
    fn rest(self) -> Map<String, Value> {
        self.map.into_iter().filter(|(_, v)| !v.is_null()).collect()
    }

    /// Removes a field; `null` counts as absent.
    fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key).filter(|v| !v.is_null())
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    fn required_string(&mut self, key: &str) -> Result<String> {
        self.string(key)?.ok_or_else(|| {
            let path = self.path(key);
            invalid(&path, format!("{path}: a string is required"))
        })
    }

    fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(self.wrong(key, "true or false")),
        }
    }

    fn number(&mut self, key: &str) -> Result<Option<f64>> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a number")),
        }
    }

    fn uint(&mut self, key: &str) -> Result<Option<u32>> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a non-negative integer")),
        }
    }

    fn array(&mut self, key: &str) -> Result<Option<Vec<Value>>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(self.wrong(key, "a list")),
        }
    }

    fn object(&mut self, key: &str) -> Result<Option<Obj>> {
        let path = self.path(key);
        self.take(key).map(|v| Obj::new(v, path)).transpose()
    }
}

/// One message. `call_names` maps the ids of earlier assistant tool calls to their names, to
/// fill a tool result's name (Ollama needs it).
fn message(mut m: Obj, call_names: &mut HashMap<String, String>) -> Result<Message> {
    let role_path = m.path("role");
    let role_name = m.string("role")?.unwrap_or_default();
    let role = match role_name.as_str() {
        "system" | "developer" => Role::System,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        _ => {
            return Err(invalid(
                &role_path,
                format!("{role_path}: expected one of {ROLES}"),
            ));
        }
    };
    let name = m.string("name")?;
    let content_path = m.path("content");
    let allowed: &[&str] = match role {
        Role::User => &["text", "image_url"],
        Role::Assistant => &["text", "refusal"],
        Role::System | Role::Tool => &["text"],
    };
    let raw_content = m.take("content").filter(|c| !c.is_null());
    // Only an assistant message (one that calls tools) may come without content, as in OpenAI's
    // API; an empty user turn would otherwise go upstream and fail there, or worse, not fail.
    if raw_content.is_none() && role != Role::Assistant {
        return Err(invalid(
            &content_path,
            format!(
                "{content_path}: a {role_name} message needs content - a string or a list of content parts"
            ),
        ));
    }
    let mut content = raw_content
        .map(|c| content_parts(c, &content_path, allowed))
        .transpose()?
        .unwrap_or_default();
    match role {
        Role::Assistant => {
            if let Some(thinking) = m.string("reasoning_content")?.or(m.string("reasoning")?) {
                content.insert(
                    0,
                    ContentPart::Thinking {
                        text: thinking,
                        signature: None,
                    },
                );
            }
            if let Some(refusal) = m.string("refusal")? {
                content.push(refusal_part(&refusal));
            }
            for (j, call) in m
                .array("tool_calls")?
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                let call = tool_call(Obj::new(call, m.path(&format!("tool_calls[{j}]")))?)?;
                if let ContentPart::ToolCall { id, name, .. } = &call {
                    call_names.insert(id.clone(), name.clone());
                }
                content.push(call);
            }
        }
        Role::Tool => {
            let tool_call_id = m.required_string("tool_call_id")?;
            let result_name = name
                .clone()
                .or_else(|| call_names.get(&tool_call_id).cloned());
            content = vec![ContentPart::ToolResult {
                tool_call_id,
                name: result_name,
                content,
                is_error: false,
            }];
        }
        Role::System | Role::User => {}
    }
    Ok(Message {
        role,
        content,
        name: name.filter(|_| role != Role::Tool),
        extra: m.rest(),
    })
}

/// A string, or a list of parts of the `allowed` types.
fn content_parts(value: Value, path: &str, allowed: &[&str]) -> Result<Vec<ContentPart>> {
    let items = match value {
        Value::String(s) if s.is_empty() => return Ok(Vec::new()),
        Value::String(s) => return Ok(vec![ContentPart::text(s)]),
        Value::Array(items) => items,
        _ => {
            let message = format!("{path}: expected a string or a list of content parts");
            return Err(invalid(path, message));
        }
    };
    let mut parts = Vec::with_capacity(items.len());
    for (j, item) in items.into_iter().enumerate() {
        let mut part = Obj::new(item, format!("{path}[{j}]"))?;
        let kind = part.string("type")?.unwrap_or_default();
        if !allowed.contains(&kind.as_str()) {
            let type_path = part.path("type");
            let message = format!(
                "{type_path}: '{kind}' parts are not supported here; expected one of {}",
                allowed.join(", ")
            );
            return Err(invalid(&type_path, message));
        }
        parts.push(match kind.as_str() {
            "text" => ContentPart::text(part.required_string("text")?),
            "refusal" => refusal_part(&part.required_string("refusal")?),
            _ => image(&mut part)?,
        });
    }
    Ok(parts)
}

/// `{"type":"image_url","image_url":{"url","detail"}}` (a bare URL string is accepted too).
fn image(part: &mut Obj) -> Result<ContentPart> {
    let (url, detail) = match part.take("image_url") {
        Some(Value::String(url)) => (url, None),
        Some(other) => {
            let mut image = Obj::new(other, part.path("image_url"))?;
            (image.required_string("url")?, image.string("detail")?)
        }
        None => return Err(part.wrong("image_url", "an object with a url")),
    };
    Ok(ContentPart::Image {
        source: ImageSource::from_url(&url),
        detail,
        extra: Map::new(),
    })
}

fn tool_call(mut call: Obj) -> Result<ContentPart> {
    let id = call.required_string("id")?;
    if let Some(kind) = call.string("type")? {
        if kind != "function" {
            return Err(call.wrong("type", "\"function\""));
        }
    }
    let mut function = call
        .object("function")?
        .ok_or_else(|| call.wrong("function", "an object with name and arguments"))?;
    let name = function.required_string("name")?;
    let arguments = match function.take("arguments") {
        None => parse_arguments(""),
        Some(Value::String(text)) => parse_arguments(&text),
        Some(object @ Value::Object(_)) => object,
        Some(_) => return Err(function.wrong("arguments", "a JSON string")),
    };
    Ok(ContentPart::ToolCall {
        id,
        name,
        arguments,
        extra: call.rest(),
    })
}

fn tool(mut t: Obj) -> Result<Tool> {
    if let Some(kind) = t.string("type")? {
        if kind != "function" {
            return Err(t.wrong("type", "\"function\" (the only tool type supported)"));
        }
    }
    let mut function = t
        .object("function")?
        .ok_or_else(|| t.wrong("function", "an object with a name"))?;
    Ok(Tool {
        name: function.required_string("name")?,
        description: function.string("description")?,
        parameters: function
            .take("parameters")
            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        strict: function.bool("strict")?,
        extra: Map::new(),
    })
}

fn tool_choice(value: Value) -> Result<ToolChoice> {
    let wrong = || {
        invalid(
            "tool_choice",
            "tool_choice: expected \"none\", \"auto\", \"required\" or \
             {\"type\":\"function\",\"function\":{\"name\":…}}",
        )
    };
    match value {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            _ => Err(wrong()),
        },
        Value::Object(_) => {
            let mut choice = Obj::new(value, "tool_choice".into())?;
            if choice.string("type")?.as_deref() != Some("function") {
                return Err(wrong());
            }
            let mut function = choice.object("function")?.ok_or_else(wrong)?;
            Ok(ToolChoice::Tool {
                name: function.required_string("name")?,
            })
        }
        _ => Err(wrong()),
    }
}

fn response_format(mut format: Obj) -> Result<ResponseFormat> {
    match format.string("type")?.as_deref() {
        Some("text") => Ok(ResponseFormat::Text),
        Some("json_object") => Ok(ResponseFormat::JsonObject),
        Some("json_schema") => {
            let mut spec = format
                .object("json_schema")?
                .ok_or_else(|| format.wrong("json_schema", "an object with name and schema"))?;
            Ok(ResponseFormat::JsonSchema {
                name: spec.required_string("name")?,
                schema: spec.take("schema").unwrap_or_else(|| json!({})),
                strict: spec.bool("strict")?,
            })
        }
        _ => Err(format.wrong("type", "one of text, json_object, json_schema")),
    }
}
