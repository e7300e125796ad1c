//! The upstream direction: a unified request as the body of `POST /v1/messages`.

use serde_json::{json, Value};

use super::blocks::Extras;
use super::json::merge_missing;
use super::turns;
use crate::error::ProviderError;
use crate::messages::{
    ChatRequest, JsonObject, Reasoning, ResponseFormat, Tool, ToolChoice, WireProtocol,
};

/// The `max_tokens` sent when the request sets none: Anthropic requires the field, and this is
/// enough for a long answer on every current model without reserving a huge output budget.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Anthropic's smallest accepted `thinking.budget_tokens`.
pub const MIN_THINKING_BUDGET: u32 = 1024;

/// Builds the JSON body for Anthropic's Messages API.
///
/// Choices made where the unified request and Anthropic differ:
/// - `max_tokens` defaults to [`DEFAULT_MAX_TOKENS`]. Anthropic rejects a thinking budget that
///   is not below `max_tokens`, so when it would be, `max_tokens` becomes the budget plus
///   [`DEFAULT_MAX_TOKENS`] (room for the answer): the request works instead of failing, at the
///   cost of a larger output cap than asked for.
/// - A thinking budget of 0 means thinking off; one below [`MIN_THINKING_BUDGET`] is raised to it.
/// - An effort level maps to adaptive thinking plus `output_config.effort`; OpenAI's `none` turns
///   thinking off and `minimal` becomes `low` (Anthropic has neither).
/// - `response_format` JSON schema goes to `output_config.format`; `json_object` and `text` have
///   no Anthropic form and are not sent.
/// - `tool_choice` is sent only with tools (Anthropic rejects it otherwise); `parallel_tool_calls:
///   false` becomes `disable_parallel_tool_use`, on an `auto` choice if none was given.
/// - Pass-through `extra` fields are merged only when they came from an Anthropic client, and
///   never replace a field set here (objects are merged key by key, so e.g. `thinking.display`
///   survives next to the mapped `thinking.type`).
pub fn encode_request(req: &ChatRequest) -> Result<Value, ProviderError> {
    let extras = Extras::for_protocol(req.extra_protocol);
    let conversation = turns::encode(&req.messages, extras)?;
    let plan = ThinkingPlan::new(req.reasoning.as_ref());

    let mut body = JsonObject::new();
    body.insert("model".into(), json!(req.model));
    body.insert("max_tokens".into(), json!(plan.max_tokens(req.max_tokens)));
    if !conversation.system.is_empty() {
        body.insert("system".into(), Value::Array(conversation.system));
    }
    body.insert("messages".into(), Value::Array(conversation.messages));
    if !req.tools.is_empty() {
        let tools = req.tools.iter().map(|t| encode_tool(t, extras)).collect();
        body.insert("tools".into(), Value::Array(tools));
        if let Some(choice) = encode_tool_choice(req) {
            body.insert("tool_choice".into(), choice);
        }
    }
    if let Some(temperature) = req.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = req.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    if let Some(top_k) = req.top_k {
        body.insert("top_k".into(), json!(top_k));
    }
    if !req.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(req.stop));
    }
    if let Some(user) = &req.user {
        body.insert("metadata".into(), json!({"user_id": user}));
    }
    if let Some(thinking) = &plan.thinking {
        body.insert("thinking".into(), thinking.clone());
    }
    let output_config = output_config(&plan, req.response_format.as_ref());
    if !output_config.is_empty() {
        body.insert("output_config".into(), Value::Object(output_config));
    }
    if req.stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    if req.extra_protocol == Some(WireProtocol::Anthropic) {
        merge_missing(&mut body, &req.extra);
    }
    Ok(Value::Object(body))
}

/// The `thinking` and effort fields a [`Reasoning`] maps to.
struct ThinkingPlan {
    thinking: Option<Value>,
    effort: Option<String>,
    budget: Option<u32>,
}

impl ThinkingPlan {
    fn new(reasoning: Option<&Reasoning>) -> Self {
        let plan = |thinking: Option<Value>, effort: Option<&str>, budget: Option<u32>| Self {
            thinking,
            effort: effort.map(str::to_string),
            budget,
        };
        let disabled = || plan(Some(json!({"type": "disabled"})), None, None);
        let adaptive = |effort| plan(Some(json!({"type": "adaptive"})), effort, None);
        match reasoning {
            None => plan(None, None, None),
            Some(Reasoning::Disabled | Reasoning::Budget { tokens: 0 }) => disabled(),
            Some(Reasoning::Budget { tokens }) => {
                let budget = (*tokens).max(MIN_THINKING_BUDGET);
                let thinking = json!({"type": "enabled", "budget_tokens": budget});
                plan(Some(thinking), None, Some(budget))
            }
            Some(Reasoning::Adaptive) => adaptive(None),
            Some(Reasoning::Effort { level }) => match level.as_str() {
                "none" => disabled(),
                "minimal" => adaptive(Some("low")),
                other => adaptive(Some(other)),
            },
        }
    }

    /// `max_tokens` for the request: the one asked for (or the default), raised above the
    /// thinking budget when it is not already.
    fn max_tokens(&self, requested: Option<u32>) -> u32 {
        let asked = requested.unwrap_or(DEFAULT_MAX_TOKENS);
        match self.budget {
            Some(budget) if asked <= budget => budget.saturating_add(DEFAULT_MAX_TOKENS),
            _ => asked,
        }
    }
}

fn output_config(plan: &ThinkingPlan, format: Option<&ResponseFormat>) -> JsonObject {
    let mut config = JsonObject::new();
    if let Some(effort) = &plan.effort {
        config.insert("effort".into(), json!(effort));
    }
    if let Some(ResponseFormat::JsonSchema { schema, .. }) = format {
        config.insert(
            "format".into(),
            json!({"type": "json_schema", "schema": schema}),
        );
    }
    config
}

/// A tool definition. A tool without a schema gets an empty object schema (Anthropic requires
/// one), unless its pass-through fields give it a `type`: Anthropic's server tools
/// (`web_search_…`) have no schema.
fn encode_tool(tool: &Tool, extras: Extras) -> Value {
    let mut map = JsonObject::new();
    map.insert("name".into(), json!(tool.name));
    if let Some(description) = &tool.description {
        map.insert("description".into(), json!(description));
    }
    let server_tool = tool.extra.contains_key("type") && extras == Extras::All;
    if !tool.parameters.is_null() {
        map.insert("input_schema".into(), tool.parameters.clone());
    } else if !server_tool {
        map.insert(
            "input_schema".into(),
            json!({"type": "object", "properties": {}}),
        );
    }
    if let Some(strict) = tool.strict {
        map.insert("strict".into(), json!(strict));
    }
    extras.apply(&mut map, &tool.extra);
    Value::Object(map)
}

fn encode_tool_choice(req: &ChatRequest) -> Option<Value> {
    let no_parallel = req.parallel_tool_calls == Some(false);
    let (kind, name) = match &req.tool_choice {
        Some(ToolChoice::None) => return Some(json!({"type": "none"})),
        None if !no_parallel => return None,
        None | Some(ToolChoice::Auto) => ("auto", None),
        Some(ToolChoice::Required) => ("any", None),
        Some(ToolChoice::Tool { name }) => ("tool", Some(name)),
    };
    let mut choice = JsonObject::new();
    choice.insert("type".into(), json!(kind));
    if let Some(name) = name {
        choice.insert("name".into(), json!(name));
    }
    if no_parallel {
        choice.insert("disable_parallel_tool_use".into(), Value::Bool(true));
    }
    Some(Value::Object(choice))
}
