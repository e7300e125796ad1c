//! The model lists the built-in Anthropic and OpenAI providers start with.
//!
//! They are a guide for `GET /v1/models` and for routing bare ids (`gpt-4.1` alone finds OpenAI),
//! not a gate: `anthropic/ANY` and `openai/ANY` still reach the upstream, which answers for models
//! that are newer than this list. Ollama lists what is pulled and custom providers what was
//! registered, so they have no built-in list.

use moxxy_actors::provider::ProviderKind;

/// Anthropic's current ids, newest first per family, with the dated ids of the undated aliases
/// (PROTOCOLS.md §1.8). Opus 4.1 and older are retired and left out.
const ANTHROPIC: &[&str] = &[
    "claude-opus-5",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-opus-4-5",
    "claude-opus-4-5-20251101",
    "claude-sonnet-5",
    "claude-sonnet-4-6",
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5",
    "claude-haiku-4-5-20251001",
];

/// OpenAI's chat models that take Chat Completions, newest families first.
const OPENAI: &[&str] = &[
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4o",
    "gpt-4o-mini",
    "o3",
    "o3-mini",
    "o4-mini",
    "o1",
];

/// The built-in model list of a provider kind; empty for kinds whose list comes from elsewhere
/// (Ollama's pulled models, a custom provider's registration).
pub fn builtin_models(kind: ProviderKind) -> &'static [&'static str] {
    match kind {
        ProviderKind::Anthropic => ANTHROPIC,
        ProviderKind::OpenAi => OPENAI,
        ProviderKind::Ollama | ProviderKind::OpenAiCompatible => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_have_lists_and_the_others_do_not() {
        assert!(builtin_models(ProviderKind::Anthropic).contains(&"claude-sonnet-4-5"));
        assert!(builtin_models(ProviderKind::OpenAi).contains(&"gpt-4.1"));
        assert!(builtin_models(ProviderKind::OpenAi).contains(&"o4-mini"));
        assert!(builtin_models(ProviderKind::Ollama).is_empty());
        assert!(builtin_models(ProviderKind::OpenAiCompatible).is_empty());
    }

    #[test]
    fn lists_have_no_duplicates() {
        for kind in [ProviderKind::Anthropic, ProviderKind::OpenAi] {
            let list = builtin_models(kind);
            let unique: std::collections::BTreeSet<_> = list.iter().collect();
            assert_eq!(unique.len(), list.len(), "{kind:?}");
        }
    }
}
