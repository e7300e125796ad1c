//! The upstream's answer shapes (a `chat.completion` and a `chat.completion.chunk`), decoded
//! tolerantly, plus the small mappings both the response and the stream decoder share.
//!
//! Every field is optional and decoded with [`lenient`]: a missing field, a `null` or a value of an
//! unexpected type is simply absent, so one odd vendor field never fails a whole answer.
//!
//! These shapes are read straight from the body's text (`serde_json::from_str`), never from a
//! `Value`: [`lenient`] takes each field's raw JSON text and decodes it alone, which costs a
//! scan of the text instead of building (and rebuilding, once per level) a tree of `Value`s —
//! that tree was a fifth of a non-streamed completion's instructions. Tool calls keep their
//! vendor fields in a flattened map, which serde buffers first; their fields and the function
//! inside them use [`lenient_buffered`], which works on buffered input.

use rand::distr::{Alphanumeric, SampleString};
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::messages::{ContentPart, JsonObject, StopReason, Usage};

/// Decodes any JSON and keeps it only if it has the expected type. Needs a deserializer that
/// reads JSON text (the field's raw text is decoded on its own).
pub(super) fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw = <&RawValue>::deserialize(deserializer)?;
    Ok(serde_json::from_str(raw.get()).ok())
}

/// [`lenient`] for fields serde has buffered (inside a struct with a flattened map), where the
/// raw text is no longer at hand: through a `Value`.
pub(super) fn lenient_buffered<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// Whether a field is there and not `null` (an `error` beside an answer's fields).
fn present<'de, D>(deserializer: D) -> Result<bool, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = <&RawValue>::deserialize(deserializer)?;
    Ok(raw.get() != "null")
}

/// A non-streamed answer, or one chunk of a streamed one (same fields, `delta` for `message`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireCompletion {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub choices: Option<Vec<WireChoice>>,
    #[serde(default, deserialize_with = "lenient")]
    pub usage: Option<WireUsage>,
    /// An `error` object in place of (or beside) the answer: the caller decodes it the slow way.
    #[serde(default, deserialize_with = "present")]
    pub error: bool,
}

impl WireCompletion {
    /// Decodes a body or chunk that holds an answer, in one pass over its text. `None` when it
    /// holds an error, is wrapped in an array (Gemini's errors) or is not a JSON object: the
    /// caller then looks at it as a `Value`.
    pub fn from_text(text: &str) -> Option<WireCompletion> {
        if text.starts_with('[') {
            return None;
        }
        serde_json::from_str::<WireCompletion>(text)
            .ok()
            .filter(|c| !c.error)
    }
}

impl WireCompletion {
    /// The first choice (index 0, or the first listed): Moxxy asks for one.
    pub fn into_first_choice(self) -> Option<WireChoice> {
        let mut choices = self.choices.unwrap_or_default();
        let pos = choices
            .iter()
            .position(|c| c.index.unwrap_or(0) == 0)
            .unwrap_or(0);
        (pos < choices.len()).then(|| choices.swap_remove(pos))
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireChoice {
    #[serde(default, deserialize_with = "lenient")]
    pub index: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub message: Option<WireMessage>,
    #[serde(default, deserialize_with = "lenient")]
    pub delta: Option<WireMessage>,
    #[serde(default, deserialize_with = "lenient")]
    pub finish_reason: Option<String>,
}

/// An assistant `message` or a streamed `delta`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireMessage {
    /// A string, or an array of `{type:"text", text}` parts (some vendors).
    #[serde(default)]
    pub content: Value,
    #[serde(default, deserialize_with = "lenient")]
    pub refusal: Option<String>,
    /// DeepSeek and grok-3-mini.
    #[serde(default, deserialize_with = "lenient")]
    pub reasoning_content: Option<String>,
    /// Ollama's `/v1` and some relays.
    #[serde(default, deserialize_with = "lenient")]
    pub reasoning: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub tool_calls: Option<Vec<WireToolCall>>,
    /// The legacy single `function_call`.
    #[serde(default, deserialize_with = "lenient")]
    pub function_call: Option<WireFunction>,
}

impl WireMessage {
    /// The reasoning text, whichever field the vendor used.
    pub fn reasoning_text(&self) -> Option<&str> {
        self.reasoning_content
            .as_deref()
            .or(self.reasoning.as_deref())
            .filter(|t| !t.is_empty())
    }

    /// The answer text: a string, or the text of text parts.
    pub fn content_text(&self) -> String {
        match &self.content {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
            _ => String::new(),
        }
    }
}

/// One tool call or one streamed fragment of it.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireToolCall {
    /// Which call a streamed fragment belongs to; Gemini's layer may omit it.
    #[serde(default, deserialize_with = "lenient_buffered")]
    pub index: Option<u64>,
    #[serde(default, deserialize_with = "lenient_buffered")]
    pub id: Option<String>,
    #[serde(default, rename = "type")]
    pub _kind: Value,
    #[serde(default, deserialize_with = "lenient_buffered")]
    pub function: Option<WireFunction>,
    /// Vendor fields on the call, e.g. Gemini's `extra_content`, echoed back next turn.
    #[serde(flatten)]
    pub extra: JsonObject,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireFunction {
    #[serde(default, deserialize_with = "lenient_buffered")]
    pub name: Option<String>,
    /// JSON text (the standard), or an object from servers that send one.
    #[serde(default)]
    pub arguments: Value,
}

impl WireFunction {
    /// The arguments as JSON text.
    pub fn arguments_text(&self) -> String {
        match &self.arguments {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default, deserialize_with = "lenient")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub completion_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub prompt_tokens_details: Option<WireTokenDetails>,
    #[serde(default, deserialize_with = "lenient")]
    pub completion_tokens_details: Option<WireTokenDetails>,
    /// DeepSeek's cache hits (its `prompt_tokens` includes them, as OpenAI's does).
    #[serde(default, deserialize_with = "lenient")]
    pub prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireTokenDetails {
    #[serde(default, deserialize_with = "lenient")]
    pub cached_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub reasoning_tokens: Option<u64>,
}

impl WireUsage {
    /// The unified usage; `None` when the object holds no token counts at all (absent is not
    /// zero).
    pub fn to_usage(&self) -> Option<Usage> {
        if self.prompt_tokens.is_none() && self.completion_tokens.is_none() {
            return None;
        }
        let details = |d: &Option<WireTokenDetails>, f: fn(&WireTokenDetails) -> Option<u64>| {
            d.as_ref().and_then(f)
        };
        Some(Usage {
            input_tokens: self.prompt_tokens.unwrap_or(0),
            output_tokens: self.completion_tokens.unwrap_or(0),
            cache_read_tokens: details(&self.prompt_tokens_details, |d| d.cached_tokens)
                .or(self.prompt_cache_hit_tokens)
                .unwrap_or(0),
            cache_write_tokens: 0,
            reasoning_tokens: details(&self.completion_tokens_details, |d| d.reasoning_tokens)
                .unwrap_or(0),
        })
    }
}

/// How a `finish_reason` ends the turn.
pub(super) enum Finish {
    Stop(StopReason),
    /// DeepSeek's `insufficient_system_resource`: cut short by capacity, worth a retry.
    Overloaded,
}

/// Maps a `finish_reason` (§5). `stop` after tool calls is tool use: Gemini's layer says `stop`
/// where OpenAI says `tool_calls`.
pub(super) fn map_finish(reason: &str, saw_tool_calls: bool) -> Finish {
    Finish::Stop(match reason {
        "stop" if saw_tool_calls => StopReason::ToolUse,
        "stop" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        "insufficient_system_resource" => return Finish::Overloaded,
        other => StopReason::Other(other.to_string()),
    })
}

/// The message of the error for DeepSeek's `insufficient_system_resource`.
pub(super) const CAPACITY_MESSAGE: &str =
    "the upstream cut the answer short for lack of capacity; try again";

/// The `extra` key that marks a text part as an OpenAI `refusal`, so the refusal is shown as text
/// to other protocols yet goes back out as `refusal` to OpenAI clients.
pub(super) const REFUSAL_MARK: &str = "refusal";

/// A text part holding a refusal.
pub(super) fn refusal_part(text: &str) -> ContentPart {
    let mut extra = JsonObject::new();
    extra.insert(REFUSAL_MARK.to_string(), Value::Bool(true));
    ContentPart::Text {
        text: text.to_string(),
        extra,
    }
}

/// Whether a text part's `extra` marks it as a refusal.
pub(super) fn is_refusal(extra: &JsonObject) -> bool {
    extra.get(REFUSAL_MARK) == Some(&Value::Bool(true))
}

/// A fresh id such as `call_3XkP…`, for tool calls and answers that came without one.
pub(super) fn generate_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        Alphanumeric.sample_string(&mut rand::rng(), 24)
    )
}
