//! An Ollama client's `POST /api/chat` body to the unified request.

use serde_json::{json, Value};

use super::client_messages::{decode_message, OpenCalls};
use super::fields::{
    as_object, field, opt_array, opt_bool, opt_f64, opt_i64, opt_str, opt_strings, opt_u32,
};
use super::shared::invalid;
use crate::error::ProviderError;
use crate::messages::{ChatRequest, JsonObject, Reasoning, ResponseFormat, Tool, WireProtocol};

/// Top-level fields this module maps; everything else goes to `extra`.
const MAPPED: [&str; 7] = [
    "model", "messages", "tools", "format", "options", "stream", "think",
];

/// `options` keys mapped to unified fields; the rest (`num_ctx`, `seed`, …) stay in
/// `extra.options` for an Ollama upstream.
const MAPPED_OPTIONS: [&str; 5] = ["temperature", "top_p", "top_k", "num_predict", "stop"];

/// The unified request for an Ollama `/api/chat` body. Errors are
/// [`ErrorKind::InvalidRequest`](crate::error::ErrorKind) with `param` naming the field.
///
/// Follows Ollama's defaults: `stream` is true unless set to false, and usage is always reported
/// (the final line carries the counts). Fields the unified request does not model (`keep_alive`,
/// `options.num_ctx`, `truncate`, …) are kept in `extra` for an Ollama upstream.
pub fn decode_request(body: &[u8]) -> Result<ChatRequest, ProviderError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(
            "body",
            format!("the request body is not valid JSON ({e}); send a JSON object"),
        )
    })?;
    let object = as_object(&value, "the request body")?;

    let model = match opt_str(object, "model", "model")? {
        Some(model) if !model.trim().is_empty() => model.to_string(),
        _ => return Err(invalid("model", "model is required")),
    };
    let mut open_calls = OpenCalls::default();
    let messages = opt_array(object, "messages", "messages")?
        .map(|items| {
            items
                .iter()
                .enumerate()
                .map(|(i, item)| decode_message(i, item, &mut open_calls))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();

    let mut req = ChatRequest {
        model,
        messages,
        tools: decode_tools(object)?,
        reasoning: decode_think(object)?,
        response_format: decode_format(object)?,
        stream: opt_bool(object, "stream", "stream")?.unwrap_or(true),
        include_usage: true,
        ..ChatRequest::default()
    };
    let extra_options = decode_options(object, &mut req)?;

    let mut extra: JsonObject = object
        .iter()
        .filter(|(key, value)| !MAPPED.contains(&key.as_str()) && !value.is_null())
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if !extra_options.is_empty() {
        extra.insert("options".into(), Value::Object(extra_options));
    }
    if !extra.is_empty() {
        req.extra = extra;
        req.extra_protocol = Some(WireProtocol::Ollama);
    }
    Ok(req)
}

/// `tools`: `[{type:"function", function:{name, description?, parameters?}}]`.
fn decode_tools(object: &JsonObject) -> Result<Vec<Tool>, ProviderError> {
    let Some(items) = opt_array(object, "tools", "tools")? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("tools[{i}]");
            let tool = as_object(item, &path)?;
            match opt_str(tool, "type", &format!("{path}.type"))? {
                None | Some("function") => {}
                Some(other) => {
                    return Err(invalid(
                        format!("{path}.type"),
                        format!("{path}.type must be \"function\", not \"{other}\""),
                    ))
                }
            }
            let function_path = format!("{path}.function");
            let function = match field(tool, "function") {
                Some(value) => as_object(value, &function_path)?,
                None => {
                    return Err(invalid(
                        function_path.clone(),
                        format!("{function_path} is required: {{\"name\", \"description\", \"parameters\"}}"),
                    ))
                }
            };
            let name = match opt_str(function, "name", &format!("{function_path}.name"))? {
                Some(name) if !name.is_empty() => name.to_string(),
                _ => {
                    return Err(invalid(
                        format!("{function_path}.name"),
                        format!("{function_path}.name is required"),
                    ))
                }
            };
            Ok(Tool {
                name,
                description: opt_str(function, "description", &format!("{function_path}.description"))?
                    .map(str::to_string),
                parameters: field(function, "parameters")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                strict: None,
                extra: JsonObject::new(),
            })
        })
        .collect()
}

/// `think`: a bool, or a level (`"low"`, `"medium"`, `"high"`, …).
fn decode_think(object: &JsonObject) -> Result<Option<Reasoning>, ProviderError> {
    Ok(match field(object, "think") {
        None => None,
        Some(Value::Bool(true)) => Some(Reasoning::Adaptive),
        Some(Value::Bool(false)) => Some(Reasoning::Disabled),
        Some(Value::String(level)) => match level.as_str() {
            "" => None,
            "true" => Some(Reasoning::Adaptive),
            "false" => Some(Reasoning::Disabled),
            level => Some(Reasoning::Effort {
                level: level.to_string(),
            }),
        },
        Some(_) => {
            return Err(invalid(
                "think",
                "think must be true, false or a level such as \"low\", \"medium\" or \"high\"",
            ))
        }
    })
}

/// `format`: `"json"` or a JSON Schema object.
fn decode_format(object: &JsonObject) -> Result<Option<ResponseFormat>, ProviderError> {
    Ok(match field(object, "format") {
        None => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) if s == "json" => Some(ResponseFormat::JsonObject),
        Some(schema @ Value::Object(_)) => Some(ResponseFormat::JsonSchema {
            name: "response".to_string(),
            schema: schema.clone(),
            strict: None,
        }),
        Some(_) => {
            return Err(invalid(
                "format",
                "format must be \"json\" or a JSON Schema object",
            ))
        }
    })
}

/// Maps the known `options` into `req` and returns the others.
fn decode_options(object: &JsonObject, req: &mut ChatRequest) -> Result<JsonObject, ProviderError> {
    let Some(value) = field(object, "options") else {
        return Ok(JsonObject::new());
    };
    let options = as_object(value, "options")?;
    req.temperature = opt_f64(options, "temperature", "options.temperature")?;
    req.top_p = opt_f64(options, "top_p", "options.top_p")?;
    req.top_k = opt_u32(options, "top_k", "options.top_k")?;
    // -1 (unlimited) and -2 (fill the context) mean no cap.
    req.max_tokens = match opt_i64(options, "num_predict", "options.num_predict")? {
        Some(n) if n >= 0 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
        _ => None,
    };
    req.stop = opt_strings(options, "stop", "options.stop")?.unwrap_or_default();
    Ok(options
        .iter()
        .filter(|(key, value)| !MAPPED_OPTIONS.contains(&key.as_str()) && !value.is_null())
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect())
}
