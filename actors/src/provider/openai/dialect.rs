//! Which OpenAI-compatible service we talk to, and what each model family accepts.
//!
//! Parameter support differs by model family (o-series and gpt-5 reject `max_tokens` and custom
//! `temperature`; xAI reasoning models reject `stop`; DeepSeek wants its reasoning replayed). Those
//! differences live in one table here, read by the request encoder, so a new model family is one
//! new row rather than a string test somewhere in the mapper (PITFALLS: *o-series parameters*).

/// The OpenAI-compatible service behind a base URL. Each one is a small set of named adjustments
/// to the same wire format, not a separate client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `api.openai.com`.
    OpenAi,
    /// xAI (Grok), `api.x.ai`.
    Xai,
    /// Google's compatibility layer, `generativelanguage.googleapis.com/v1beta/openai`.
    Gemini,
    /// DeepSeek, `api.deepseek.com`.
    DeepSeek,
    /// Anything else: Ollama's `/v1`, vLLM, LiteLLM, OpenRouter, Azure, ….
    Generic,
}

impl Dialect {
    /// Picks the dialect from the host of `base_url` (scheme, user info, port and path ignored).
    /// Unknown hosts, local servers and relays are [`Dialect::Generic`].
    pub fn detect(base_url: &str) -> Dialect {
        match host_of(base_url).as_str() {
            "api.openai.com" => Dialect::OpenAi,
            "api.x.ai" => Dialect::Xai,
            "generativelanguage.googleapis.com" => Dialect::Gemini,
            "api.deepseek.com" => Dialect::DeepSeek,
            _ => Dialect::Generic,
        }
    }
}

/// The lower-cased host of a URL, without port or trailing dot.
fn host_of(url: &str) -> String {
    let url = url.trim();
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        // An IPv6 literal: the port follows the closing bracket.
        host_port.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// What a model accepts, decided per family by [`model_caps`]. The request encoder reads these
/// fields and nothing else about the model name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelCaps {
    /// A reasoning model (o1/o3/o4/gpt-5, Grok reasoning, DeepSeek thinking, Gemini 2.5+). On
    /// OpenAI this is what forces `max_completion_tokens`, default sampling and the `developer`
    /// role; the fields below spell out each consequence.
    pub reasoning: bool,
    /// System prompts go out as `role: "developer"` (o1 and later OpenAI reasoning models).
    pub developer_role: bool,
    /// The output cap is `max_completion_tokens` (OpenAI and xAI always, reasoning models
    /// anywhere); otherwise the older `max_tokens`.
    pub max_completion_tokens: bool,
    /// `temperature` and `top_p` may be sent (reasoning models accept only the default).
    pub sampling: bool,
    /// `stop` may be sent (o3, o4-mini and xAI reasoning models reject it).
    pub stop: bool,
    /// `presence_penalty` / `frequency_penalty` may be passed through (o-series and xAI reasoning
    /// models reject them).
    pub penalties: bool,
    /// `reasoning_effort` may be sent.
    pub reasoning_effort: bool,
    /// `reasoning_effort: "none"` turns reasoning off (gpt-5.1+, Gemini, Ollama); without it a
    /// request to disable reasoning is left out.
    pub effort_none: bool,
    /// DeepSeek's `thinking: {type: enabled|disabled}` switch.
    pub thinking_toggle: bool,
    /// Earlier reasoning is replayed as `reasoning_content` (DeepSeek thinking mode, which
    /// requires it after tool calls); when false it is dropped.
    pub replay_reasoning: bool,
}

/// A chat model with every parameter (gpt-4.1, gpt-4o, Llama on Ollama, …).
const CHAT: ModelCaps = ModelCaps {
    reasoning: false,
    developer_role: false,
    max_completion_tokens: false,
    sampling: true,
    stop: true,
    penalties: true,
    reasoning_effort: false,
    effort_none: false,
    thinking_toggle: false,
    replay_reasoning: false,
};

/// OpenAI o1, gpt-5: reasoning with `stop`.
const O_SERIES: ModelCaps = ModelCaps {
    reasoning: true,
    developer_role: true,
    max_completion_tokens: true,
    sampling: false,
    penalties: false,
    reasoning_effort: true,
    ..CHAT
};

/// OpenAI o3 / o4-mini: as [`O_SERIES`] but `stop` is rejected.
const O_SERIES_NO_STOP: ModelCaps = ModelCaps {
    stop: false,
    ..O_SERIES
};

/// gpt-5.1 and later: `reasoning_effort: "none"` exists.
const GPT5_DOTTED: ModelCaps = ModelCaps {
    effort_none: true,
    ..O_SERIES
};

/// Grok reasoning models: no `stop`, no penalties, no `reasoning_effort`.
const GROK_REASONING: ModelCaps = ModelCaps {
    reasoning: true,
    stop: false,
    penalties: false,
    ..CHAT
};

/// grok-3-mini: the one Grok reasoning model that takes `reasoning_effort` in Chat Completions.
const GROK_EFFORT: ModelCaps = ModelCaps {
    reasoning_effort: true,
    ..GROK_REASONING
};

/// grok-4.3: takes `reasoning_effort` including `none` **[3P]**.
const GROK_EFFORT_NONE: ModelCaps = ModelCaps {
    effort_none: true,
    ..GROK_EFFORT
};

/// Gemini 2.5 and later through the compatibility layer: `reasoning_effort` maps to thinking.
const GEMINI_THINKING: ModelCaps = ModelCaps {
    reasoning: true,
    reasoning_effort: true,
    effort_none: true,
    ..CHAT
};

/// DeepSeek V4 thinking mode: the `thinking` switch, `reasoning_effort` and mandatory replay.
/// Sampling parameters are ignored there, not rejected, so they are still sent.
const DEEPSEEK_THINKING: ModelCaps = ModelCaps {
    reasoning: true,
    reasoning_effort: true,
    thinking_toggle: true,
    replay_reasoning: true,
    ..CHAT
};

/// Legacy `deepseek-reasoner` (R1): replaying `reasoning_content` is a 400.
const DEEPSEEK_REASONER: ModelCaps = ModelCaps {
    reasoning: true,
    ..CHAT
};

/// Legacy `deepseek-chat`: no thinking controls; replayed reasoning is ignored.
const DEEPSEEK_CHAT: ModelCaps = ModelCaps {
    replay_reasoning: true,
    ..CHAT
};

/// A relay or local server: pass `reasoning_effort` through when the client asked for it.
const GENERIC_CHAT: ModelCaps = ModelCaps {
    reasoning_effort: true,
    effort_none: true,
    ..CHAT
};

/// How a row recognises a model id.
enum Pattern {
    /// The id starts with this family name at a word boundary (`o3` matches `o3-mini`,
    /// `o3-2025-04-16`, not `o30`).
    Family(&'static str),
    /// The id contains this marker anywhere (xAI's `…-non-reasoning` variants).
    Contains(&'static str),
}

struct Row {
    dialects: &'static [Dialect],
    pattern: Pattern,
    caps: ModelCaps,
}

const OPENAI_LIKE: &[Dialect] = &[Dialect::OpenAi, Dialect::Generic];
const XAI: &[Dialect] = &[Dialect::Xai];
const GEMINI: &[Dialect] = &[Dialect::Gemini];
const DEEPSEEK: &[Dialect] = &[Dialect::DeepSeek];

/// The capability table; the first matching row wins, so narrower families come first.
const TABLE: &[Row] = &[
    row(OPENAI_LIKE, Pattern::Family("gpt-5-chat"), CHAT),
    row(OPENAI_LIKE, Pattern::Family("gpt-5."), GPT5_DOTTED),
    row(OPENAI_LIKE, Pattern::Family("gpt-5"), O_SERIES),
    row(OPENAI_LIKE, Pattern::Family("o1"), O_SERIES),
    row(OPENAI_LIKE, Pattern::Family("o3"), O_SERIES_NO_STOP),
    row(OPENAI_LIKE, Pattern::Family("o4"), O_SERIES_NO_STOP),
    row(OPENAI_LIKE, Pattern::Family("codex-mini"), O_SERIES_NO_STOP),
    row(XAI, Pattern::Contains("non-reasoning"), CHAT),
    row(XAI, Pattern::Family("grok-2"), CHAT),
    row(XAI, Pattern::Family("grok-3-mini"), GROK_EFFORT),
    row(XAI, Pattern::Family("grok-3"), CHAT),
    row(XAI, Pattern::Family("grok-4.3"), GROK_EFFORT_NONE),
    row(XAI, Pattern::Family("grok"), GROK_REASONING),
    row(GEMINI, Pattern::Family("gemini-1"), CHAT),
    row(GEMINI, Pattern::Family("gemini-2.0"), CHAT),
    row(GEMINI, Pattern::Family("gemma"), CHAT),
    row(GEMINI, Pattern::Family("gemini"), GEMINI_THINKING),
    row(
        DEEPSEEK,
        Pattern::Family("deepseek-reasoner"),
        DEEPSEEK_REASONER,
    ),
    row(DEEPSEEK, Pattern::Family("deepseek-chat"), DEEPSEEK_CHAT),
];

const fn row(dialects: &'static [Dialect], pattern: Pattern, caps: ModelCaps) -> Row {
    Row {
        dialects,
        pattern,
        caps,
    }
}

/// What `model` accepts on `dialect`. Model ids are compared lower-cased, after any routing path
/// (`openai/o3`, `models/gemini-2.5-pro`). Unknown models get the dialect's default: a chat model,
/// except on xAI (new Grok models are reasoning models) and DeepSeek (V4 thinking mode).
pub fn model_caps(dialect: Dialect, model: &str) -> ModelCaps {
    let lower = model.trim().to_ascii_lowercase();
    let id = lower.rsplit('/').next().unwrap_or_default();
    let found = TABLE
        .iter()
        .find(|r| r.dialects.contains(&dialect) && matches(&r.pattern, id))
        .map(|r| r.caps);
    let mut caps = found.unwrap_or(match dialect {
        Dialect::OpenAi => CHAT,
        Dialect::Xai => GROK_REASONING,
        Dialect::Gemini => GEMINI_THINKING,
        Dialect::DeepSeek => DEEPSEEK_THINKING,
        Dialect::Generic => GENERIC_CHAT,
    });
    // OpenAI accepts `max_completion_tokens` on every current model and deprecates `max_tokens`;
    // xAI prefers it too.
    caps.max_completion_tokens |= matches!(dialect, Dialect::OpenAi | Dialect::Xai);
    caps
}

fn matches(pattern: &Pattern, id: &str) -> bool {
    match pattern {
        Pattern::Contains(marker) => id.contains(marker),
        Pattern::Family(family) => match id.strip_prefix(family) {
            None => false,
            Some(rest) => {
                rest.is_empty()
                    || !family.ends_with(|c: char| c.is_ascii_alphanumeric())
                    || !rest.starts_with(|c: char| c.is_ascii_alphanumeric())
            }
        },
    }
}
