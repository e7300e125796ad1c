//! How agents, conversations and messages look in the API (API.md, *Agents*).

use moxxy_actors::agent::{turn::stop_reason_name, Persona, StoredMessage};
use moxxy_actors::{joined_text, joined_thinking, ContentPart, Role, Usage};
use serde_json::{json, Map, Value};

use crate::agents::AgentSource;
use crate::store::{AgentRecord, ConversationRecord, MessageRecord};

/// An agent: its persona, where it was defined, how many conversations it has.
pub fn agent(
    persona: &Persona,
    source: AgentSource,
    record: Option<&AgentRecord>,
    conversations: usize,
) -> Value {
    json!({
        "name": persona.name,
        "model": persona.model,
        "system": persona.system,
        "temperature": persona.temperature,
        "max_tokens": persona.max_tokens,
        "stop": persona.stop,
        "tools": persona.tools.iter().map(|t| json!({
            "name": t.name, "description": t.description, "parameters": t.parameters,
        })).collect::<Vec<_>>(),
        "source": source.as_str(),
        "conversations": conversations,
        "created_at": record.map(|r| r.created_at.as_str()),
        "updated_at": record.map(|r| r.updated_at.as_str()),
    })
}

/// A conversation in a listing.
pub fn conversation_summary(record: &ConversationRecord) -> Value {
    json!({
        "id": record.id,
        "agent": record.agent,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "messages": record.messages,
    })
}

/// A conversation with its messages. A user message that no reply follows is `incomplete`: its
/// turn was cut short (or is running now).
pub fn conversation(record: &ConversationRecord, messages: &[MessageRecord]) -> Value {
    let views: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, stored)| {
            let answered = messages
                .get(i + 1)
                .is_some_and(|next| next.message.role == Role::Assistant);
            let mut view = message(&stored.message);
            if let Some(object) = view.as_object_mut() {
                object.insert("created_at".into(), json!(stored.created_at));
                if stored.message.role == Role::User && !answered {
                    object.insert("incomplete".into(), json!(true));
                }
            }
            view
        })
        .collect();
    let mut view = conversation_summary(record);
    if let Some(object) = view.as_object_mut() {
        object.insert("messages".into(), Value::Array(views));
    }
    view
}

/// A message: `content` is the text, or for a user message with more than text, its parts;
/// `thinking` and `tool_calls` when there are any.
pub fn message(message: &StoredMessage) -> Value {
    let mut view = Map::new();
    view.insert("id".into(), json!(message.id));
    view.insert(
        "role".into(),
        json!(match message.role {
            Role::Assistant => "assistant",
            _ => "user",
        }),
    );
    let only_text = message.content.iter().all(|p| {
        !matches!(
            p,
            ContentPart::Image { .. } | ContentPart::ToolResult { .. }
        )
    });
    let content = if message.role == Role::Assistant || only_text {
        json!(joined_text(&message.content))
    } else {
        Value::Array(message.content.iter().filter_map(part).collect())
    };
    view.insert("content".into(), content);
    let thinking = joined_thinking(&message.content);
    if !thinking.is_empty() {
        view.insert("thinking".into(), json!(thinking));
    }
    let calls: Vec<Value> = message
        .content
        .iter()
        .filter_map(|p| match p {
            ContentPart::ToolCall {
                id,
                name,
                arguments,
                ..
            } => Some(json!({"id": id, "name": name, "arguments": arguments})),
            _ => None,
        })
        .collect();
    if !calls.is_empty() {
        view.insert("tool_calls".into(), Value::Array(calls));
    }
    if let Some(usage) = message.usage {
        view.insert("usage".into(), usage_view(usage));
    }
    if let Some(reason) = &message.stop_reason {
        view.insert("stop_reason".into(), json!(stop_reason_name(reason)));
    }
    Value::Object(view)
}

/// A user part as the API takes it.
fn part(part: &ContentPart) -> Option<Value> {
    match part {
        ContentPart::Text { text, .. } => Some(json!({"type": "text", "text": text})),
        ContentPart::Image { source, .. } => Some(json!({"type": "image", "url": source.to_url()})),
        ContentPart::ToolResult {
            tool_call_id,
            content,
            is_error,
            ..
        } => Some(json!({
            "type": "tool_result",
            "tool_call_id": tool_call_id,
            "content": joined_text(content),
            "is_error": is_error,
        })),
        _ => None,
    }
}

/// Token counts as the API shows them.
pub fn usage_view(usage: Usage) -> Value {
    json!({"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens})
}

/// A turn's answer (`POST /v1/agents/{name}/messages` without streaming).
pub fn turn_answer(conversation_id: &str, assistant: &StoredMessage) -> Value {
    let mut view = message(assistant);
    let usage = view
        .as_object_mut()
        .and_then(|o| o.remove("usage"))
        .unwrap_or(Value::Null);
    let stop_reason = view
        .as_object_mut()
        .and_then(|o| o.remove("stop_reason"))
        .unwrap_or(Value::Null);
    json!({
        "conversation_id": conversation_id,
        "message": view,
        "usage": usage,
        "stop_reason": stop_reason,
    })
}
