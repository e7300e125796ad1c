//! Request bodies the tests share, in the forms API.md documents.

use serde_json::{json, Value};

/// A non-streamed chat completion request: a system message and one user message.
pub fn chat(model: &str, user: &str) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": user},
        ],
        "max_tokens": 64,
    })
}

/// The same request streamed; `include_usage` asks for the usage chunk.
pub fn chat_stream(model: &str, user: &str, include_usage: bool) -> Value {
    let mut body = chat(model, user);
    body["stream"] = json!(true);
    if include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

/// A provider registration as the seed writes it:
/// `{"name", "base_url", "api_key", "models"}`.
pub fn provider(name: &str, base_url: &str, api_key: &str, models: &[&str]) -> Value {
    json!({"name": name, "base_url": base_url, "api_key": api_key, "models": models})
}

/// A `get_weather(city)` function tool in OpenAI's form.
pub fn weather_tool() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    })
}
