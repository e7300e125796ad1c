//! Stop reasons and usage, between Anthropic's names and counts and the unified ones.

use serde_json::{json, Value};

use super::json::u64_at;
use crate::messages::{StopReason, Usage};

/// Anthropic's `stop_reason` as a unified one (PROTOCOLS.md §5). Unknown values are kept.
pub(super) fn stop_reason_from_wire(reason: &str) -> StopReason {
    match reason {
        "end_turn" => StopReason::EndTurn,
        "stop_sequence" => StopReason::StopSequence,
        "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
        "tool_use" => StopReason::ToolUse,
        "refusal" => StopReason::ContentFilter,
        "pause_turn" => StopReason::Paused,
        other => StopReason::Other(other.to_string()),
    }
}

/// A unified stop reason in Anthropic's words. An unknown reason is passed on verbatim: Anthropic
/// tells its clients to expect new values.
pub(super) fn stop_reason_to_wire(reason: &StopReason) -> &str {
    match reason {
        StopReason::EndTurn => "end_turn",
        StopReason::StopSequence => "stop_sequence",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::ContentFilter => "refusal",
        StopReason::Paused => "pause_turn",
        StopReason::Other(other) => other,
    }
}

/// Anthropic's usage counts as sent. `input` is the uncached part of the prompt only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct WireUsage {
    input: u64,
    cache_creation: u64,
    cache_read: u64,
    output: u64,
    /// `output_tokens_details.thinking_tokens` (unverified field; absent means unknown).
    thinking: u64,
}

impl WireUsage {
    /// Overwrites the counts `usage` carries and keeps the others: stream counts are cumulative,
    /// and a `message_delta` may carry only `output_tokens`.
    pub(super) fn update(&mut self, usage: &Value) {
        let set = |field: &mut u64, value: Option<u64>| {
            if let Some(v) = value {
                *field = v;
            }
        };
        set(&mut self.input, u64_at(usage, "input_tokens"));
        set(
            &mut self.cache_creation,
            u64_at(usage, "cache_creation_input_tokens"),
        );
        set(
            &mut self.cache_read,
            u64_at(usage, "cache_read_input_tokens"),
        );
        set(&mut self.output, u64_at(usage, "output_tokens"));
        let thinking = usage
            .get("output_tokens_details")
            .and_then(|d| u64_at(d, "thinking_tokens"));
        set(&mut self.thinking, thinking);
    }

    pub(super) fn from_value(usage: &Value) -> Self {
        let mut wire = Self::default();
        wire.update(usage);
        wire
    }

    /// The unified form: input is the whole prompt, cached parts included.
    pub(super) fn to_unified(self) -> Usage {
        Usage {
            input_tokens: self
                .input
                .saturating_add(self.cache_creation)
                .saturating_add(self.cache_read),
            output_tokens: self.output,
            cache_read_tokens: self.cache_read,
            cache_write_tokens: self.cache_creation,
            reasoning_tokens: self.thinking,
        }
    }

    /// The Anthropic form of unified usage: the cached parts are taken out of `input_tokens`.
    pub(super) fn from_unified(usage: &Usage) -> Self {
        WireUsage {
            input: usage
                .input_tokens
                .saturating_sub(usage.cache_read_tokens)
                .saturating_sub(usage.cache_write_tokens),
            cache_creation: usage.cache_write_tokens,
            cache_read: usage.cache_read_tokens,
            output: usage.output_tokens,
            thinking: usage.reasoning_tokens,
        }
    }

    pub(super) fn to_json(self) -> Value {
        let mut usage = json!({
            "input_tokens": self.input,
            "cache_creation_input_tokens": self.cache_creation,
            "cache_read_input_tokens": self.cache_read,
            "output_tokens": self.output,
        });
        if self.thinking > 0 {
            if let Value::Object(map) = &mut usage {
                map.insert(
                    "output_tokens_details".into(),
                    json!({"thinking_tokens": self.thinking}),
                );
            }
        }
        usage
    }
}
