//! The bodies of the agent routes, and their checks. Every refusal names the field and says
//! what to send instead.

use moxxy_actors::agent::Persona;
use moxxy_actors::{ContentPart, ImageSource, JsonObject, Tool};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::body::double_option;
use crate::api::ApiError;
use crate::config::personas::is_id;

/// The body of `POST /v1/agents`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    pub name: String,
    pub model: String,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub stop: Vec<String>,
    #[serde(default)]
    pub tools: Vec<ToolInput>,
}

/// The body of `PATCH /v1/agents/{name}`: every field optional; `null` clears an optional one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentChange {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub system: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub temperature: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub max_tokens: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    pub stop: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "double_option")]
    pub tools: Option<Option<Vec<ToolInput>>>,
}

/// A tool the model may call: `parameters` (or Anthropic's `input_schema`) is a JSON Schema
/// object; without one the tool takes no arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, alias = "input_schema")]
    pub parameters: Option<Value>,
}

/// The body of `POST /v1/agents/{name}/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnInput {
    pub content: Content,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub tools: Option<Vec<ToolInput>>,
}

/// A user message: text, or a list of parts.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Value>),
}

impl NewAgent {
    /// The persona, checked.
    pub fn into_persona(self) -> Result<Persona, ApiError> {
        let name = self.name.trim().to_string();
        if !is_id(&name) {
            return Err(ApiError::bad_request(
                "name: expected an agent id: 1 to 63 lowercase letters, digits, '_' or '-', \
                 starting with a letter or digit, like \"researcher\"",
            )
            .with_param("name"));
        }
        let persona = Persona {
            name,
            model: self.model.trim().to_string(),
            system: self.system,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            stop: self.stop,
            tools: tools(self.tools, "tools")?,
        };
        check(&persona)?;
        Ok(persona)
    }
}

impl AgentChange {
    /// `persona` with the change applied, checked.
    pub fn apply(self, mut persona: Persona) -> Result<Persona, ApiError> {
        if let Some(model) = self.model {
            persona.model = model.trim().to_string();
        }
        if let Some(system) = self.system {
            persona.system = system;
        }
        if let Some(temperature) = self.temperature {
            persona.temperature = temperature;
        }
        if let Some(max_tokens) = self.max_tokens {
            persona.max_tokens = max_tokens;
        }
        if let Some(stop) = self.stop {
            persona.stop = stop.unwrap_or_default();
        }
        if let Some(new_tools) = self.tools {
            persona.tools = tools(new_tools.unwrap_or_default(), "tools")?;
        }
        check(&persona)?;
        Ok(persona)
    }
}

/// The checks every persona passes (the model's routing is checked by the caller).
fn check(persona: &Persona) -> Result<(), ApiError> {
    if persona.model.is_empty() {
        return Err(ApiError::bad_request(
            "model: the model is empty - name one like \"anthropic/claude-sonnet-4-5\" or an alias",
        )
        .with_param("model"));
    }
    if persona
        .temperature
        .is_some_and(|t| !(0.0..=2.0).contains(&t))
    {
        return Err(ApiError::bad_request(
            "temperature: expected a temperature from 0 to 2 (most models take 0 to 1)",
        )
        .with_param("temperature"));
    }
    if persona.max_tokens == Some(0) {
        return Err(ApiError::bad_request(
            "max_tokens: expected a number of tokens greater than 0, like 2048",
        )
        .with_param("max_tokens"));
    }
    if let Some(n) = persona.stop.iter().position(String::is_empty) {
        return Err(ApiError::bad_request(format!(
            "stop[{n}]: a stop sequence must not be empty; remove it"
        ))
        .with_param(format!("stop[{n}]")));
    }
    Ok(())
}

/// Tools in the engine's form. `field` names the list in errors.
pub fn tools(input: Vec<ToolInput>, field: &str) -> Result<Vec<Tool>, ApiError> {
    let mut seen = std::collections::BTreeSet::new();
    input
        .into_iter()
        .enumerate()
        .map(|(i, tool)| {
            let at = format!("{field}[{i}]");
            let name = tool.name.trim().to_string();
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !name_ok {
                return Err(ApiError::bad_request(format!(
                    "{at}.name: expected 1 to 64 letters, digits, '_' or '-', like \"get_weather\""
                ))
                .with_param(format!("{at}.name")));
            }
            if !seen.insert(name.clone()) {
                return Err(ApiError::bad_request(format!(
                    "{at}.name: a tool named '{name}' is already in the list; names must be unique"
                ))
                .with_param(format!("{at}.name")));
            }
            let parameters = match tool.parameters {
                None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
                Some(schema @ Value::Object(_)) => schema,
                Some(_) => {
                    return Err(ApiError::bad_request(format!(
                        "{at}.parameters: expected a JSON Schema object, like {{\"type\": \"object\", \"properties\": {{}}}}"
                    ))
                    .with_param(format!("{at}.parameters")))
                }
            };
            Ok(Tool {
                name,
                description: tool.description,
                parameters,
                strict: None,
                extra: JsonObject::new(),
            })
        })
        .collect()
}

/// The user message's parts: `{"type":"text","text"}`, `{"type":"image","url"}` (an https URL or
/// a `data:` URL) and `{"type":"tool_result","tool_call_id","content","is_error"?}`.
pub fn content_parts(content: Content) -> Result<Vec<ContentPart>, ApiError> {
    let parts = match content {
        Content::Text(text) if text.trim().is_empty() => {
            return Err(empty_content());
        }
        Content::Text(text) => return Ok(vec![ContentPart::text(text)]),
        Content::Parts(parts) if parts.is_empty() => return Err(empty_content()),
        Content::Parts(parts) => parts,
    };
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| content_part(i, part))
        .collect()
}

fn empty_content() -> ApiError {
    ApiError::bad_request("content: the message is empty - send text or a list of parts")
        .with_param("content")
}

fn content_part(i: usize, part: Value) -> Result<ContentPart, ApiError> {
    let at = format!("content[{i}]");
    let refuse = |field: &str, what: &str| {
        let param = if field.is_empty() {
            at.clone()
        } else {
            format!("{at}.{field}")
        };
        ApiError::bad_request(format!("{param}: {what}")).with_param(param)
    };
    let string = |field: &str| {
        part.get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match part.get("type").and_then(Value::as_str) {
        Some("text") => {
            let text = string("text").ok_or_else(|| refuse("text", "expected the text"))?;
            Ok(ContentPart::text(text))
        }
        Some("image") => {
            let url = string("url")
                .ok_or_else(|| refuse("url", "expected the image's https URL or a data: URL"))?;
            if !(url.starts_with("https://")
                || url.starts_with("http://")
                || url.starts_with("data:"))
            {
                return Err(refuse(
                    "url",
                    "expected an https URL or a data:image/...;base64 URL",
                ));
            }
            Ok(ContentPart::Image {
                source: ImageSource::from_url(&url),
                detail: None,
                extra: JsonObject::new(),
            })
        }
        Some("tool_result") => {
            let tool_call_id = string("tool_call_id").ok_or_else(|| {
                refuse(
                    "tool_call_id",
                    "expected the id of the tool call this answers",
                )
            })?;
            let content = match part.get("content") {
                Some(Value::String(text)) => vec![ContentPart::text(text.clone())],
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| match item.get("text").and_then(Value::as_str) {
                        Some(text) => Ok(ContentPart::text(text)),
                        None => Err(refuse(
                            "content",
                            "expected text parts ({\"type\":\"text\",\"text\":\"...\"})",
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                None | Some(Value::Null) => Vec::new(),
                Some(_) => return Err(refuse("content", "expected the tool's result as text")),
            };
            let is_error = match part.get("is_error") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(refuse("is_error", "expected true or false")),
            };
            Ok(ContentPart::ToolResult {
                tool_call_id,
                name: None,
                content,
                is_error,
            })
        }
        Some(other) => Err(refuse(
            "type",
            &format!("'{other}' is not a part type - use text, image or tool_result"),
        )),
        None => Err(refuse(
            "type",
            "expected a part type: text, image or tool_result",
        )),
    }
}

/// Whether `id` could be a conversation's id (`[A-Za-z0-9_-]`, 1 to 64): anything else cannot
/// exist, and must never reach a store key.
pub fn is_conversation_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
