//! What an agent is: the persona from `[[personas]]` in config.toml or from `POST /v1/agents`.

use serde::{Deserialize, Serialize};

use crate::messages::Tool;

/// An agent's configuration. Every turn is sent with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Persona {
    /// The agent's id: `[a-z0-9][a-z0-9_-]{0,62}`.
    pub name: String,
    /// The model as a client names it: an alias, `PROVIDER/MODEL` or a bare id. Routed at every
    /// turn, so a provider reconfigured while the agent runs is used at once.
    pub model: String,
    /// The system prompt, sent first in every turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Tools offered at every turn that names none of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
}

impl Persona {
    /// A persona with only a name and a model.
    pub fn new(name: impl Into<String>, model: impl Into<String>) -> Self {
        Persona {
            name: name.into(),
            model: model.into(),
            system: None,
            temperature: None,
            max_tokens: None,
            stop: Vec::new(),
            tools: Vec::new(),
        }
    }
}
