//! The unified chat types: one request, one response and one stream of events that every wire
//! protocol maps to and from. Nothing outside `provider/` knows a wire format; everything else in
//! Moxxy speaks these types.
//!
//! Design notes:
//! - System prompts are ordinary messages with [`Role::System`]; protocols that hoist them (Anthropic)
//!   do so in their own mapper, so the order the client gave is kept for those that do not.
//! - A tool result is a [`ContentPart::ToolResult`]. It may sit in a [`Role::Tool`] message (the
//!   OpenAI way) or in a [`Role::User`] message (the Anthropic way); every mapper accepts both.
//! - Fields the unified types do not model travel in `extra` maps, so a request that goes from a
//!   client to an upstream of the same protocol loses nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object, as used for pass-through fields.
pub type JsonObject = Map<String, Value>;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions: OpenAI `system`/`developer`, Anthropic's top-level `system`.
    System,
    User,
    Assistant,
    /// A message that carries tool results (OpenAI `tool`, Ollama `tool`).
    Tool,
}

/// An image, either inline or by address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// Raw base64 (no `data:` prefix) with its media type, e.g. `image/png`.
    Base64 { media_type: String, data: String },
    /// An `https:` URL the upstream fetches itself.
    Url { url: String },
}

impl ImageSource {
    /// Parses an OpenAI-style image URL: a `data:<type>;base64,<data>` URL becomes inline data,
    /// anything else stays a URL.
    pub fn from_url(url: &str) -> Self {
        if let Some(rest) = url.strip_prefix("data:") {
            if let Some((meta, data)) = rest.split_once(',') {
                if let Some(media_type) = meta.strip_suffix(";base64") {
                    return ImageSource::Base64 {
                        media_type: media_type.to_string(),
                        data: data.to_string(),
                    };
                }
            }
        }
        ImageSource::Url {
            url: url.to_string(),
        }
    }

    /// The OpenAI form: the URL itself, or a `data:` URL for inline data.
    pub fn to_url(&self) -> String {
        match self {
            ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
            ImageSource::Url { url } => url.clone(),
        }
    }
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text {
        text: String,
        /// Fields of the client's protocol this type does not model (e.g. Anthropic `cache_control`,
        /// `citations`), replayed to an upstream of the same protocol.
        #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
        extra: JsonObject,
    },
    Image {
        source: ImageSource,
        /// OpenAI's `detail` (`auto`, `low`, `high`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
        extra: JsonObject,
    },
    /// Model reasoning. `signature` is Anthropic's opaque signature, which must be replayed byte for
    /// byte; reasoning without a signature (DeepSeek, Ollama, …) is never sent to Anthropic as a
    /// thinking block.
    Thinking {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// Anthropic's encrypted reasoning, kept opaque and replayed as is.
    RedactedThinking { data: String },
    /// A call the model made.
    ToolCall {
        id: String,
        name: String,
        /// The arguments as JSON. When an upstream sent a string that is not valid JSON, the raw
        /// text is kept as a JSON string so nothing is lost.
        arguments: Value,
        /// Vendor fields on the call (Gemini's `extra_content.google.thought_signature`), echoed back
        /// to the same protocol on the next turn.
        #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
        extra: JsonObject,
    },
    /// The result of a tool call, sent back by the client.
    ToolResult {
        tool_call_id: String,
        /// The tool's name, needed by Ollama (`tool_name`); filled from the matching call when the
        /// client's protocol does not carry it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The result: text and images.
        content: Vec<ContentPart>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
}

impl ContentPart {
    /// A plain text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text {
            text: text.into(),
            extra: JsonObject::new(),
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentPart>,
    /// OpenAI's optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields of the message this type does not model (e.g. OpenAI `refusal`).
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub extra: JsonObject,
}

impl Message {
    /// A message holding one text part.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            content: vec![ContentPart::text(text)],
            name: None,
            extra: JsonObject::new(),
        }
    }

    /// The concatenated text parts.
    pub fn joined_text(&self) -> String {
        joined_text(&self.content)
    }
}

/// The concatenation of the text parts among `parts`.
pub fn joined_text(parts: &[ContentPart]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The concatenation of the reasoning text among `parts` (signatures and redacted blocks left out).
pub fn joined_thinking(parts: &[ContentPart]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Thinking { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema).
    pub parameters: Value,
    /// OpenAI's `strict` / Anthropic's `strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Fields this type does not model (Anthropic `cache_control`).
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub extra: JsonObject,
}

/// How the model may use the tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides (OpenAI `auto`, Anthropic `auto`).
    Auto,
    /// No tool calls (OpenAI `none`, Anthropic `none`).
    None,
    /// At least one tool call (OpenAI `required`, Anthropic `any`).
    Required,
    /// This tool must be called.
    Tool { name: String },
}

/// How much the model should reason. Each protocol maps this to what it offers: Anthropic
/// `thinking`, OpenAI `reasoning_effort`, DeepSeek `thinking`, Ollama `think`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reasoning {
    /// Reasoning off.
    Disabled,
    /// Reasoning with a token budget (Anthropic `budget_tokens`).
    Budget { tokens: u32 },
    /// Reasoning at an effort level (`minimal`, `low`, `medium`, `high`, …).
    Effort { level: String },
    /// The model decides (Anthropic `adaptive`, Ollama `think: true`).
    Adaptive,
}

/// The output format the client asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        name: String,
        schema: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
}

/// A completion request in the unified form.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model id as the upstream knows it (routing prefixes already removed).
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// `false` asks for at most one tool call per turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// An opaque end-user id (OpenAI `user`, Anthropic `metadata.user_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default)]
    pub stream: bool,
    /// Whether a streaming client asked to receive usage (OpenAI `stream_options.include_usage`).
    /// Moxxy always asks the upstream for usage; this only decides what the client is shown.
    #[serde(default)]
    pub include_usage: bool,
    /// Top-level fields of the client's wire format that the unified type does not model. They are
    /// merged into the upstream body only when the upstream speaks `extra_protocol`.
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub extra: JsonObject,
    /// The protocol `extra` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_protocol: Option<WireProtocol>,
}

impl ChatRequest {
    /// A rough count of the prompt's tokens (four bytes a token), for rate-limit estimates made
    /// before the upstream reports the real figure.
    pub fn estimated_input_tokens(&self) -> u64 {
        fn part_len(part: &ContentPart) -> usize {
            match part {
                ContentPart::Text { text, .. } | ContentPart::Thinking { text, .. } => text.len(),
                ContentPart::RedactedThinking { data } => data.len(),
                // An image costs about a thousand tokens whatever its encoding.
                ContentPart::Image { .. } => 4000,
                ContentPart::ToolCall {
                    name, arguments, ..
                } => name.len() + arguments.to_string().len(),
                ContentPart::ToolResult { content, .. } => content.iter().map(part_len).sum(),
            }
        }
        let bytes: usize = self
            .messages
            .iter()
            .flat_map(|m| m.content.iter())
            .map(part_len)
            .sum::<usize>()
            + self
                .tools
                .iter()
                .map(|t| t.name.len() + t.parameters.to_string().len())
                .sum::<usize>();
        (bytes as u64).div_ceil(4)
    }
}

/// The wire protocols Moxxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireProtocol {
    Anthropic,
    OpenAi,
    Ollama,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A natural end of the turn.
    EndTurn,
    /// A stop sequence matched (`ChatResponse::stop_sequence` says which, when the upstream says).
    StopSequence,
    /// The token limit or the context window was reached.
    MaxTokens,
    /// The model called tools and waits for their results.
    ToolUse,
    /// A content filter or a refusal ended the turn.
    ContentFilter,
    /// Anthropic `pause_turn`: resend the reply as is to continue.
    Paused,
    /// A reason this version does not know, kept verbatim.
    Other(String),
}

/// Token counts. `input_tokens` is the whole prompt, cached parts included (OpenAI's convention);
/// the cache fields say how much of it was read from or written to the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Reasoning tokens, included in `output_tokens`.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

/// A complete (non-streamed) answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The upstream's message id (`msg_…`, `chatcmpl-…`); generated when it gives none.
    pub id: String,
    /// The model id the upstream reported.
    pub model: String,
    pub content: Vec<ContentPart>,
    pub stop_reason: StopReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequence: Option<String>,
    /// `None` when the upstream reported no usage — which is not the same as zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The upstream's request id (`request-id` / `x-request-id` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ChatResponse {
    /// The concatenated text parts of the answer.
    pub fn text(&self) -> String {
        joined_text(&self.content)
    }

    /// The tool calls of the answer, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.content.iter().filter_map(|p| match p {
            ContentPart::ToolCall {
                id,
                name,
                arguments,
                ..
            } => Some((id.as_str(), name.as_str(), arguments)),
            _ => None,
        })
    }
}

/// One event of a streamed answer.
///
/// `index` is the position of the content part the event belongs to in the final answer's
/// `content` (Anthropic's block index; the OpenAI and Ollama mappers number parts in the order they
/// first appear). A [`StreamAccumulator`] turns the events back into a [`ChatResponse`].
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The stream started: the upstream's message id and model.
    Start { id: String, model: String },
    /// More answer text.
    TextDelta { index: u32, text: String },
    /// More reasoning, a signature for it, or a whole redacted block.
    ThinkingDelta { index: u32, delta: ThinkingDelta },
    /// A tool call begins (`id` and `name` set, on its first delta) or its arguments grow by
    /// `arguments`, a fragment of JSON text.
    ToolCallDelta {
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
        /// Vendor fields of the call (see [`ContentPart::ToolCall`]).
        extra: JsonObject,
    },
    /// Usage so far. Later events overwrite earlier ones (the counts are cumulative).
    Usage(Usage),
    /// The model finished. Always the last event of a complete stream but for a trailing `Usage`.
    Stop {
        reason: StopReason,
        stop_sequence: Option<String>,
    },
    /// The stream failed after it started; no more events follow.
    Error(crate::error::ProviderError),
}

/// A piece of a thinking part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThinkingDelta {
    Text(String),
    /// The block's signature (replaces any earlier one).
    Signature(String),
    /// A whole redacted thinking block.
    Redacted(String),
}

/// Builds a [`ChatResponse`] from stream events, the way the official SDKs accumulate a stream.
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    id: String,
    model: String,
    parts: std::collections::BTreeMap<u32, PartBuilder>,
    stop: Option<(StopReason, Option<String>)>,
    usage: Option<Usage>,
    error: Option<crate::error::ProviderError>,
}

#[derive(Debug)]
enum PartBuilder {
    Text(String),
    Thinking {
        text: String,
        signature: Option<String>,
    },
    Redacted(String),
    ToolCall {
        id: String,
        name: String,
        arguments: String,
        extra: JsonObject,
    },
}

impl StreamAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one event.
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Start { id, model } => {
                self.id.clone_from(id);
                self.model.clone_from(model);
            }
            StreamEvent::TextDelta { index, text } => {
                if let PartBuilder::Text(t) = self
                    .parts
                    .entry(*index)
                    .or_insert_with(|| PartBuilder::Text(String::new()))
                {
                    t.push_str(text);
                }
            }
            StreamEvent::ThinkingDelta { index, delta } => {
                if let ThinkingDelta::Redacted(data) = delta {
                    self.parts
                        .insert(*index, PartBuilder::Redacted(data.clone()));
                    return;
                }
                let entry = self
                    .parts
                    .entry(*index)
                    .or_insert_with(|| PartBuilder::Thinking {
                        text: String::new(),
                        signature: None,
                    });
                if let PartBuilder::Thinking { text, signature } = entry {
                    match delta {
                        ThinkingDelta::Text(t) => text.push_str(t),
                        ThinkingDelta::Signature(s) => *signature = Some(s.clone()),
                        ThinkingDelta::Redacted(_) => {}
                    }
                }
            }
            StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                arguments,
                extra,
            } => {
                let entry = self
                    .parts
                    .entry(*index)
                    .or_insert_with(|| PartBuilder::ToolCall {
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                        extra: JsonObject::new(),
                    });
                if let PartBuilder::ToolCall {
                    id: i,
                    name: n,
                    arguments: a,
                    extra: e,
                } = entry
                {
                    if let Some(id) = id {
                        i.clone_from(id);
                    }
                    if let Some(name) = name {
                        n.clone_from(name);
                    }
                    a.push_str(arguments);
                    e.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            StreamEvent::Usage(u) => self.usage = Some(*u),
            StreamEvent::Stop {
                reason,
                stop_sequence,
            } => self.stop = Some((reason.clone(), stop_sequence.clone())),
            StreamEvent::Error(e) => self.error = Some(e.clone()),
        }
    }

    /// Whether a `Stop` event was seen.
    pub fn is_complete(&self) -> bool {
        self.stop.is_some() && self.error.is_none()
    }

    /// The usage seen so far.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The answer so far. A stream that ended with an error gives that error; one that ended
    /// without a `Stop` gives what arrived, with stop reason `Other("incomplete")`.
    pub fn finish(self) -> Result<ChatResponse, crate::error::ProviderError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let (stop_reason, stop_sequence) = self
            .stop
            .unwrap_or((StopReason::Other("incomplete".into()), None));
        let content = self
            .parts
            .into_values()
            .map(|p| match p {
                PartBuilder::Text(text) => ContentPart::text(text),
                PartBuilder::Thinking { text, signature } => {
                    ContentPart::Thinking { text, signature }
                }
                PartBuilder::Redacted(data) => ContentPart::RedactedThinking { data },
                PartBuilder::ToolCall {
                    id,
                    name,
                    arguments,
                    extra,
                } => ContentPart::ToolCall {
                    id,
                    name,
                    arguments: parse_arguments(&arguments),
                    extra,
                },
            })
            .collect();
        Ok(ChatResponse {
            id: self.id,
            model: self.model,
            content,
            stop_reason,
            stop_sequence,
            usage: self.usage,
            request_id: None,
        })
    }
}

/// Parses tool-call arguments sent as JSON text: empty text is `{}`, invalid JSON is kept as a
/// string so nothing is lost.
pub fn parse_arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return Value::Object(JsonObject::new());
    }
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// Renders tool-call arguments as the JSON text OpenAI-style protocols carry. A string that holds
/// invalid JSON (see [`parse_arguments`]) is sent back as its raw text.
pub fn arguments_to_text(arguments: &Value) -> String {
    match arguments {
        Value::String(raw) if serde_json::from_str::<Value>(raw).is_err() => raw.clone(),
        other => other.to_string(),
    }
}
