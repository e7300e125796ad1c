//! Moxxy → upstream: a [`ChatRequest`] as a Chat Completions body for one dialect and model.
//!
//! Parameters are chosen from [`ModelCaps`], never from the model name directly. Everything the
//! target does not take is left out rather than sent and rejected.

use serde_json::{json, Map, Value};

use super::dialect::{model_caps, Dialect, ModelCaps};
use super::types::is_refusal;
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{
    arguments_to_text, ChatRequest, ContentPart, JsonObject, Message, Reasoning, ResponseFormat,
    Role, ToolChoice, WireProtocol,
};

/// Sent as `reasoning_content` on a DeepSeek assistant turn with tool calls that carries no
/// reasoning of its own (it came from another provider): thinking mode rejects a missing or empty
/// field there **[3P]**.
pub const DEEPSEEK_REASONING_PLACEHOLDER: &str = "(reasoning not available)";

/// Top-level fields `extra` may never set: they are the request itself.
const PROTECTED: &[&str] = &["model", "messages", "stream", "stream_options"];

/// The upstream request body for `req` on `dialect`.
///
/// Pass-through fields (`req.extra`, message `extra`) are merged only when they came from an
/// OpenAI client; then they fill gaps and never override what the unified request says.
pub fn encode_request(req: &ChatRequest, dialect: Dialect) -> Result<Value, ProviderError> {
    if req.model.trim().is_empty() {
        return Err(invalid("model", "model: a model id is required"));
    }
    let caps = model_caps(dialect, &req.model);
    let from_openai = req.extra_protocol == Some(WireProtocol::OpenAi);
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert(
        "messages".into(),
        Value::Array(messages(req, dialect, caps)),
    );

    if !req.tools.is_empty() {
        let tools = req.tools.iter().map(|t| {
            let mut function = Map::new();
            function.insert("name".into(), json!(t.name));
            if let Some(d) = &t.description {
                function.insert("description".into(), json!(d));
            }
            if !t.parameters.is_null() {
                function.insert("parameters".into(), t.parameters.clone());
            }
            if let Some(strict) = t.strict {
                function.insert("strict".into(), json!(strict));
            }
            json!({"type": "function", "function": function})
        });
        body.insert("tools".into(), Value::Array(tools.collect()));
        // OpenAI rejects both fields when no tools are given.
        if let Some(choice) = &req.tool_choice {
            body.insert("tool_choice".into(), tool_choice(choice));
        }
        if let Some(parallel) = req.parallel_tool_calls {
            body.insert("parallel_tool_calls".into(), json!(parallel));
        }
    }
    if let Some(max) = req.max_tokens {
        let name = if caps.max_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(name.into(), json!(max));
    }
    if caps.sampling {
        if let Some(t) = req.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            body.insert("top_p".into(), json!(p));
        }
    }
    if caps.stop && !req.stop.is_empty() {
        body.insert("stop".into(), json!(req.stop));
    }
    if let Some(reasoning) = &req.reasoning {
        add_reasoning(&mut body, reasoning, dialect, caps);
    }
    if let Some(format) = &req.response_format {
        body.insert("response_format".into(), response_format(format));
    }
    if let Some(user) = &req.user {
        body.insert("user".into(), json!(user));
    }
    if req.stream {
        body.insert("stream".into(), json!(true));
        // Always ask for usage: whether the client sees it is the encoder's business.
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if from_openai {
        for (key, value) in &req.extra {
            let penalty = key == "presence_penalty" || key == "frequency_penalty";
            if PROTECTED.contains(&key.as_str()) || (penalty && !caps.penalties) {
                continue;
            }
            body.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    Ok(Value::Object(body))
}

fn invalid(param: &str, message: &str) -> ProviderError {
    let mut e = ProviderError::new(ErrorKind::InvalidRequest, message);
    e.param = Some(param.to_string());
    e
}

/// The messages, in order. Tool results become one `tool` message each, placed before the rest
/// of their message: OpenAI wants them right after the assistant turn that made the calls. A
/// `Tool` message's parts other than tool results have no form here and are left out.
fn messages(req: &ChatRequest, dialect: Dialect, caps: ModelCaps) -> Vec<Value> {
    let from_openai = req.extra_protocol == Some(WireProtocol::OpenAi);
    let mut out = Vec::with_capacity(req.messages.len());
    for message in &req.messages {
        for part in &message.content {
            if let ContentPart::ToolResult {
                tool_call_id,
                content,
                ..
            } = part
            {
                out.push(json!({
                    "role": "tool",
                    "tool_call_id": tool_call_id,
                    "content": tool_result_text(content),
                }));
            }
        }
        let mut encoded = match message.role {
            Role::System => {
                let role = if caps.developer_role {
                    "developer"
                } else {
                    "system"
                };
                json_message(role, json!(plain_text(&message.content)))
            }
            Role::User => match user_content(&message.content) {
                Some(content) => json_message("user", content),
                None => continue, // only tool results
            },
            Role::Assistant => assistant(message, dialect, caps, from_openai),
            Role::Tool => continue,
        };
        if let Some(name) = &message.name {
            encoded.insert("name".into(), json!(name));
        }
        if from_openai {
            for (key, value) in &message.extra {
                encoded.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        out.push(Value::Object(encoded));
    }
    out
}

fn json_message(role: &str, content: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("role".into(), json!(role));
    m.insert("content".into(), content);
    m
}

/// The text parts joined with blank lines: a plain string is what every compatible server takes
/// (DeepSeek, for one, rejects content arrays).
fn plain_text(parts: &[ContentPart]) -> String {
    let texts: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text, extra } if !is_refusal(extra) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    texts.join("\n\n")
}

/// A user message's content: a string when it is only text, a parts array when it has images;
/// `None` when the message held tool results and nothing else (they went out as `tool`
/// messages). An empty message stays an empty string.
fn user_content(parts: &[ContentPart]) -> Option<Value> {
    let has_image = parts.iter().any(|p| matches!(p, ContentPart::Image { .. }));
    let has_text = parts.iter().any(|p| matches!(p, ContentPart::Text { .. }));
    let has_results = parts
        .iter()
        .any(|p| matches!(p, ContentPart::ToolResult { .. }));
    if !has_image {
        return (has_text || !has_results).then(|| json!(plain_text(parts)));
    }
    let encoded = parts.iter().filter_map(|p| match p {
        ContentPart::Text { text, .. } => Some(json!({"type": "text", "text": text})),
        ContentPart::Image { source, detail, .. } => {
            let mut image = Map::new();
            image.insert("url".into(), json!(source.to_url()));
            if let Some(detail) = detail {
                image.insert("detail".into(), json!(detail));
            }
            Some(json!({"type": "image_url", "image_url": image}))
        }
        _ => None,
    });
    Some(Value::Array(encoded.collect()))
}

/// A tool result as text. Tool messages cannot carry images, so each becomes a short note; the
/// format has no error flag, so `is_error` is carried only by the text itself.
fn tool_result_text(content: &[ContentPart]) -> String {
    let pieces: Vec<&str> = content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text, .. } => Some(text.as_str()),
            ContentPart::Image { .. } => Some("[image omitted: tool results here take text only]"),
            _ => None,
        })
        .collect();
    pieces.join("\n\n")
}

fn assistant(
    message: &Message,
    dialect: Dialect,
    caps: ModelCaps,
    from_openai: bool,
) -> Map<String, Value> {
    let text = plain_text(&message.content);
    let calls: Vec<Value> = message
        .content
        .iter()
        .filter_map(|p| match p {
            ContentPart::ToolCall {
                id,
                name,
                arguments,
                extra,
            } => Some(tool_call(id, name, arguments, extra, from_openai)),
            _ => None,
        })
        .collect();
    let content = if text.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        json!(text)
    };
    let mut m = json_message("assistant", content);
    let refusal: Vec<&str> = message
        .content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text, extra } if is_refusal(extra) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    if !refusal.is_empty() {
        m.insert("refusal".into(), json!(refusal.concat()));
    }
    if dialect == Dialect::DeepSeek && caps.replay_reasoning {
        let thinking = crate::messages::joined_thinking(&message.content);
        if !thinking.is_empty() {
            m.insert("reasoning_content".into(), json!(thinking));
        } else if !calls.is_empty() {
            m.insert(
                "reasoning_content".into(),
                json!(DEEPSEEK_REASONING_PLACEHOLDER),
            );
        }
    }
    if !calls.is_empty() {
        m.insert("tool_calls".into(), Value::Array(calls));
    }
    m
}

/// One tool call. Its vendor fields are merged into the call object: Gemini's `extra_content`
/// (the thought signature, which must come back) always, anything else only from OpenAI clients.
fn tool_call(
    id: &str,
    name: &str,
    arguments: &Value,
    extra: &JsonObject,
    from_openai: bool,
) -> Value {
    let mut call = Map::new();
    call.insert("id".into(), json!(id));
    call.insert("type".into(), json!("function"));
    call.insert(
        "function".into(),
        json!({"name": name, "arguments": arguments_to_text(arguments)}),
    );
    for (key, value) in extra {
        if from_openai || key == "extra_content" {
            call.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    Value::Object(call)
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool { name } => json!({"type": "function", "function": {"name": name}}),
    }
}

fn response_format(format: &ResponseFormat) -> Value {
    match format {
        ResponseFormat::Text => json!({"type": "text"}),
        ResponseFormat::JsonObject => json!({"type": "json_object"}),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => {
            let mut spec = Map::new();
            spec.insert("name".into(), json!(name));
            spec.insert("schema".into(), schema.clone());
            if let Some(strict) = strict {
                spec.insert("strict".into(), json!(strict));
            }
            json!({"type": "json_schema", "json_schema": spec})
        }
    }
}

/// `reasoning_effort`, and DeepSeek's `thinking` switch, for what the client asked.
///
/// A token budget becomes an effort level (≤ 1024 low, ≤ 8192 medium, more high); `Adaptive`
/// leaves the model's default; `Disabled` is sent only where the model can turn reasoning off.
fn add_reasoning(
    body: &mut Map<String, Value>,
    reasoning: &Reasoning,
    dialect: Dialect,
    caps: ModelCaps,
) {
    let effort = match reasoning {
        Reasoning::Effort { level } => Some(level.clone()),
        Reasoning::Budget { tokens } => Some(
            match tokens {
                0..=1024 => "low",
                1025..=8192 => "medium",
                _ => "high",
            }
            .to_string(),
        ),
        Reasoning::Disabled => caps.effort_none.then(|| "none".to_string()),
        Reasoning::Adaptive => None,
    };
    if caps.thinking_toggle {
        let kind = if *reasoning == Reasoning::Disabled {
            "disabled"
        } else {
            "enabled"
        };
        body.insert("thinking".into(), json!({"type": kind}));
    }
    let Some(effort) = effort.filter(|_| caps.reasoning_effort) else {
        return;
    };
    let effort = if dialect == Dialect::DeepSeek {
        // DeepSeek takes low, high and max.
        match effort.as_str() {
            "none" | "minimal" | "low" => "low".to_string(),
            "medium" | "high" => "high".to_string(),
            "xhigh" | "max" => "max".to_string(),
            _ => effort,
        }
    } else {
        effort
    };
    body.insert("reasoning_effort".into(), json!(effort));
}
