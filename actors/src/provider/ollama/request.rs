//! The unified request to Ollama's `POST /api/chat` body (PROTOCOLS.md §3.3).

use serde_json::{json, Value};

use super::models::normalize_model;
use super::request_messages::encode_messages;
use crate::error::ProviderError;
use crate::messages::{
    ChatRequest, JsonObject, Reasoning, ResponseFormat, ToolChoice, WireProtocol,
};

/// The `/api/chat` body for `req`.
///
/// - `stream` is always written: Ollama streams when it is absent.
/// - `tool_choice` has no Ollama equivalent. `none` is honoured by not sending the tools; a forced
///   tool cannot be, so the tools are sent and a warning is logged (never an error: the model may
///   well call the tool anyway).
/// - `parallel_tool_calls` and `user` have no equivalent and are dropped.
/// - `extra` is merged only when it came from an Ollama client; modelled fields win over it, and
///   its `options` fill in keys beside ours (`num_ctx`, `seed`, …) instead of replacing them.
pub fn encode_request(req: &ChatRequest) -> Result<Value, ProviderError> {
    let mut body = JsonObject::new();
    body.insert("model".into(), json!(normalize_model(&req.model)));
    body.insert(
        "messages".into(),
        Value::Array(encode_messages(&req.messages)?),
    );
    if let Some(tools) = encode_tools(req) {
        body.insert("tools".into(), tools);
    }
    body.insert("stream".into(), json!(req.stream));
    if let Some(format) = encode_format(req.response_format.as_ref()) {
        body.insert("format".into(), format);
    }
    let options = encode_options(req);
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    if let Some(think) = req.reasoning.as_ref().map(encode_think) {
        body.insert("think".into(), think);
    }
    if req.extra_protocol == Some(WireProtocol::Ollama) {
        merge_extra(&mut body, &req.extra);
    }
    Ok(Value::Object(body))
}

/// Tools in OpenAI's function format, without `strict` (Ollama has none).
fn encode_tools(req: &ChatRequest) -> Option<Value> {
    if req.tools.is_empty() {
        return None;
    }
    match &req.tool_choice {
        Some(ToolChoice::None) => {
            tracing::debug!(
                model = %req.model,
                "tool_choice none: not sending the tools to Ollama, which has no tool_choice"
            );
            return None;
        }
        Some(ToolChoice::Required) | Some(ToolChoice::Tool { .. }) => tracing::warn!(
            model = %req.model,
            tool_choice = ?req.tool_choice,
            "Ollama cannot force a tool call (it has no tool_choice); sending the tools without it"
        ),
        Some(ToolChoice::Auto) | None => {}
    }
    let tools = req
        .tools
        .iter()
        .map(|tool| {
            let mut function = JsonObject::new();
            function.insert("name".into(), json!(tool.name));
            if let Some(description) = &tool.description {
                function.insert("description".into(), json!(description));
            }
            function.insert("parameters".into(), tool.parameters.clone());
            json!({"type": "function", "function": Value::Object(function)})
        })
        .collect();
    Some(Value::Array(tools))
}

/// `format`: `"json"` for any JSON object, the schema itself for a schema.
fn encode_format(format: Option<&ResponseFormat>) -> Option<Value> {
    match format? {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(json!("json")),
        ResponseFormat::JsonSchema { schema, .. } => Some(schema.clone()),
    }
}

/// The sampling settings Ollama keeps under `options`.
fn encode_options(req: &ChatRequest) -> JsonObject {
    let mut options = JsonObject::new();
    if let Some(temperature) = req.temperature {
        options.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = req.top_p {
        options.insert("top_p".into(), json!(top_p));
    }
    if let Some(top_k) = req.top_k {
        options.insert("top_k".into(), json!(top_k));
    }
    if let Some(max_tokens) = req.max_tokens {
        options.insert("num_predict".into(), json!(max_tokens));
    }
    if !req.stop.is_empty() {
        options.insert("stop".into(), json!(req.stop));
    }
    options
}

/// `think`: a bool, or a level for the models that take levels (`low`, `medium`, `high`, `max`).
/// OpenAI's `none` turns thinking off, `minimal` is Ollama's `low` and `xhigh` its `high`; other
/// levels go through for the server to judge.
fn encode_think(reasoning: &Reasoning) -> Value {
    match reasoning {
        Reasoning::Disabled => json!(false),
        Reasoning::Adaptive | Reasoning::Budget { .. } => json!(true),
        Reasoning::Effort { level } => match level.as_str() {
            "none" => json!(false),
            "minimal" => json!("low"),
            "xhigh" => json!("high"),
            other => json!(other),
        },
    }
}

/// Adds the Ollama client's own fields (`keep_alive`, `options.num_ctx`, …) that the unified
/// request does not model, without overriding anything already set.
fn merge_extra(body: &mut JsonObject, extra: &JsonObject) {
    for (key, value) in extra {
        match (body.get_mut(key), value) {
            (Some(Value::Object(ours)), Value::Object(theirs)) if key == "options" => {
                for (k, v) in theirs {
                    ours.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            (Some(_), _) | (None, Value::Null) => {}
            (None, _) => {
                body.insert(key.clone(), value.clone());
            }
        }
    }
}
