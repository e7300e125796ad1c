//! Unified messages to Anthropic's `system` and `messages`.
//!
//! Anthropic has no system role in `messages` and wants tool results in a user turn, before any
//! other content of that turn. So: system messages (wherever they sit) are hoisted into `system`
//! in order; tool messages become user turns; consecutive turns of one role are merged, with all
//! their `tool_result` blocks first.
//!
//! Parts are dropped only where Anthropic cannot take them and nothing is lost by it: empty text
//! (Anthropic rejects empty text blocks; OpenAI clients send `content: ""` beside tool calls) and
//! thinking without a signature (reasoning from another provider, which Anthropic would reject as
//! a forged thinking block). Everything else that has no Anthropic form is an error that names the
//! message and part, rather than a silent change to the conversation.

use serde_json::{json, Value};

use super::blocks::{self, Extras};
use super::json::invalid;
use crate::error::ProviderError;
use crate::messages::{ContentPart, JsonObject, Message, Role};

/// The `system` blocks and the `messages` turns of a request.
pub(super) struct Conversation {
    pub(super) system: Vec<Value>,
    pub(super) messages: Vec<Value>,
}

/// One Anthropic turn being assembled.
struct Turn {
    role: &'static str,
    tool_results: Vec<Value>,
    blocks: Vec<Value>,
}

pub(super) fn encode(messages: &[Message], extras: Extras) -> Result<Conversation, ProviderError> {
    let mut system = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let turn = match message.role {
            Role::System => {
                system.extend(system_blocks(message, &path, extras)?);
                continue;
            }
            Role::User | Role::Tool => user_turn(message, &path, extras)?,
            Role::Assistant => assistant_turn(message, &path, extras)?,
        };
        if turn.tool_results.is_empty() && turn.blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == turn.role => {
                last.tool_results.extend(turn.tool_results);
                last.blocks.extend(turn.blocks);
            }
            _ => turns.push(turn),
        }
    }
    let messages = turns
        .into_iter()
        .map(|turn| {
            let mut content = turn.tool_results;
            content.extend(turn.blocks);
            json!({"role": turn.role, "content": content})
        })
        .collect();
    Ok(Conversation { system, messages })
}

fn system_blocks(
    message: &Message,
    path: &str,
    extras: Extras,
) -> Result<Vec<Value>, ProviderError> {
    let mut out = Vec::new();
    for (j, part) in message.content.iter().enumerate() {
        match part {
            ContentPart::Text { text, .. } if text.is_empty() => {}
            ContentPart::Text { text, extra } => out.push(blocks::text_block(text, extra, extras)),
            _ => {
                return Err(invalid(
                    &format!("{path}.content[{j}]"),
                    "a system message may hold only text for Anthropic",
                ))
            }
        }
    }
    Ok(out)
}

fn user_turn(message: &Message, path: &str, extras: Extras) -> Result<Turn, ProviderError> {
    let mut turn = Turn {
        role: "user",
        tool_results: Vec::new(),
        blocks: Vec::new(),
    };
    for (j, part) in message.content.iter().enumerate() {
        let part_path = format!("{path}.content[{j}]");
        match part {
            ContentPart::ToolResult {
                tool_call_id,
                content,
                is_error,
                ..
            } => turn.tool_results.push(tool_result_block(
                tool_call_id,
                content,
                *is_error,
                &part_path,
                extras,
            )?),
            _ if message.role == Role::Tool => {
                return Err(invalid(
                    &part_path,
                    "a tool message may hold only tool results",
                ))
            }
            ContentPart::Text { text, .. } if text.is_empty() => {}
            ContentPart::Text { text, extra } => {
                turn.blocks.push(blocks::text_block(text, extra, extras))
            }
            ContentPart::Image { source, extra, .. } => {
                turn.blocks.push(blocks::image_block(source, extra, extras))
            }
            ContentPart::Thinking { .. }
            | ContentPart::RedactedThinking { .. }
            | ContentPart::ToolCall { .. } => {
                return Err(invalid(
                    &part_path,
                    "thinking and tool calls belong in assistant messages",
                ))
            }
        }
    }
    Ok(turn)
}

fn assistant_turn(message: &Message, path: &str, extras: Extras) -> Result<Turn, ProviderError> {
    let mut turn = Turn {
        role: "assistant",
        tool_results: Vec::new(),
        blocks: Vec::new(),
    };
    for (j, part) in message.content.iter().enumerate() {
        let part_path = format!("{path}.content[{j}]");
        let block = match part {
            ContentPart::Text { text, .. } if text.is_empty() => continue,
            ContentPart::Text { text, extra } => blocks::text_block(text, extra, extras),
            ContentPart::Image { source, extra, .. } => blocks::image_block(source, extra, extras),
            ContentPart::Thinking {
                text,
                signature: Some(signature),
            } if !signature.is_empty() => blocks::thinking_block(text, signature),
            // Reasoning without a signature came from another provider: Anthropic cannot verify
            // it and rejects the history, so it is left out.
            ContentPart::Thinking { .. } => continue,
            ContentPart::RedactedThinking { data } => blocks::redacted_block(data),
            ContentPart::ToolCall {
                id,
                name,
                arguments,
                extra,
            } => {
                let input = blocks::tool_input(arguments).ok_or_else(|| {
                    invalid(
                        &part_path,
                        &format!(
                            "the arguments of tool call '{id}' are not a JSON object, which \
                             Anthropic requires; fix or remove that call"
                        ),
                    )
                })?;
                blocks::tool_use_block(id, name, input, extra, extras)
            }
            ContentPart::ToolResult { .. } => {
                return Err(invalid(
                    &part_path,
                    "a tool result belongs in a user or tool message",
                ))
            }
        };
        turn.blocks.push(block);
    }
    Ok(turn)
}

/// A `tool_result` block. A lone plain text result is sent as a string, the most widely accepted
/// form; anything else as blocks.
fn tool_result_block(
    id: &str,
    content: &[ContentPart],
    is_error: bool,
    path: &str,
    extras: Extras,
) -> Result<Value, ProviderError> {
    let mut block = JsonObject::new();
    block.insert("type".into(), json!("tool_result"));
    block.insert("tool_use_id".into(), json!(id));
    match content {
        [] => {}
        [ContentPart::Text { text, extra }] if extra.is_empty() => {
            block.insert("content".into(), json!(text));
        }
        parts => {
            let mut items = Vec::new();
            for part in parts {
                match part {
                    ContentPart::Text { text, .. } if text.is_empty() => {}
                    ContentPart::Text { text, extra } => {
                        items.push(blocks::text_block(text, extra, extras))
                    }
                    ContentPart::Image { source, extra, .. } => {
                        items.push(blocks::image_block(source, extra, extras))
                    }
                    _ => {
                        return Err(invalid(
                            path,
                            "a tool result may hold only text and images for Anthropic",
                        ))
                    }
                }
            }
            block.insert("content".into(), Value::Array(items));
        }
    }
    if is_error {
        block.insert("is_error".into(), Value::Bool(true));
    }
    Ok(Value::Object(block))
}
