//! What one client expects the server to hold for the keys it owns, the writes that change it,
//! and what a write in flight at a kill may have left.
//!
//! Every client owns its own keys (`cN-…`), so the writes to one key come from one client, one
//! at a time, and at most one of them is in flight when the server is killed. After the restart
//! the store must equal the expected state, or the expected state with the in-flight write
//! applied in one of the ways it may have been ([`InFlight::outcomes`]) — never a mix.

use std::collections::BTreeMap;

/// A conversation whose id the client never learned: a new conversation's first turn was in
/// flight at the kill. Matched against the one conversation the client does not know.
pub const UNKNOWN_ID: &str = "?";

/// A custom provider as registered or last patched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub models: Vec<String>,
    pub key: String,
}

/// A token by its name; `id` is empty while unknown (created at the kill, not acknowledged),
/// `secret` is known only when the 201 arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub id: String,
    pub secret: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// One stored message, as the conversation view shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// An API agent and its conversations (id → messages, oldest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    pub system: String,
    pub max_tokens: u64,
    pub conversations: BTreeMap<String, Vec<Message>>,
}

/// Everything one client owns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub providers: BTreeMap<String, Provider>,
    /// By name (unique per client: `cN-tSEQ`).
    pub tokens: BTreeMap<String, Token>,
    /// Name → value.
    pub vault: BTreeMap<String, String>,
    pub agents: BTreeMap<String, Agent>,
}

/// One write a client sends.
#[derive(Clone, Debug)]
pub enum Write {
    ProviderCreate {
        id: String,
        provider: Provider,
    },
    ProviderPatch {
        id: String,
        provider: Provider,
    },
    ProviderDelete {
        id: String,
    },
    TokenCreate {
        name: String,
    },
    TokenRevoke {
        name: String,
        id: String,
    },
    VaultPut {
        name: String,
        value: String,
    },
    VaultDelete {
        name: String,
    },
    AgentCreate {
        name: String,
        system: String,
        max_tokens: u64,
    },
    AgentPatch {
        name: String,
        system: String,
        max_tokens: u64,
    },
    AgentDelete {
        name: String,
    },
    /// One turn; a new conversation when `conversation` is `None`.
    Turn {
        agent: String,
        conversation: Option<String>,
        content: String,
        stream: bool,
    },
    ConversationDelete {
        agent: String,
        conversation: String,
    },
}

impl Write {
    /// The key the write changes, for the journal.
    pub fn key(&self) -> String {
        match self {
            Write::ProviderCreate { id, .. }
            | Write::ProviderPatch { id, .. }
            | Write::ProviderDelete { id } => id.clone(),
            Write::TokenCreate { name }
            | Write::TokenRevoke { name, .. }
            | Write::VaultPut { name, .. }
            | Write::VaultDelete { name }
            | Write::AgentCreate { name, .. }
            | Write::AgentPatch { name, .. }
            | Write::AgentDelete { name } => name.clone(),
            Write::Turn {
                agent,
                conversation,
                ..
            } => format!("{agent}/{}", conversation.as_deref().unwrap_or("(new)")),
            Write::ConversationDelete {
                agent,
                conversation,
            } => format!("{agent}/{conversation}"),
        }
    }

    /// A short name for the figures.
    pub fn kind(&self) -> &'static str {
        match self {
            Write::ProviderCreate { .. } => "provider create",
            Write::ProviderPatch { .. } => "provider patch",
            Write::ProviderDelete { .. } => "provider delete",
            Write::TokenCreate { .. } => "token create",
            Write::TokenRevoke { .. } => "token revoke",
            Write::VaultPut { .. } => "vault put",
            Write::VaultDelete { .. } => "vault delete",
            Write::AgentCreate { .. } => "agent create",
            Write::AgentPatch { .. } => "agent patch",
            Write::AgentDelete { .. } => "agent delete",
            Write::Turn { stream: false, .. } => "turn (JSON)",
            Write::Turn { stream: true, .. } => "turn (stream)",
            Write::ConversationDelete { .. } => "conversation delete",
        }
    }
}

/// What an acknowledged write told the client.
#[derive(Clone, Debug, Default)]
pub struct Learned {
    /// A created token's `(id, secret)`.
    pub token: Option<(String, String)>,
    /// The conversation a turn went to.
    pub conversation: Option<String>,
}

/// A write whose response did not arrive in full before the kill.
#[derive(Clone, Debug)]
pub struct InFlight {
    pub write: Write,
    /// A streamed turn whose `start` event arrived: its user message is acknowledged (stored
    /// and flushed before `start` is sent), in this conversation.
    pub started: Option<String>,
}

/// The reply every agent turn gets from the canned fake upstream.
pub fn assistant_text(chunks: usize) -> String {
    (0..chunks).map(|i| format!("word{i} ")).collect()
}

impl State {
    /// Applies an acknowledged write. `reply` is the assistant text turns get.
    pub fn apply(&mut self, write: &Write, learned: &Learned, reply: &str) {
        match write {
            Write::ProviderCreate { id, provider } | Write::ProviderPatch { id, provider } => {
                self.providers.insert(id.clone(), provider.clone());
            }
            Write::ProviderDelete { id } => {
                self.providers.remove(id);
            }
            Write::TokenCreate { name } => {
                let (id, secret) = learned.token.clone().unwrap_or_default();
                let secret = (!secret.is_empty()).then_some(secret);
                self.tokens.insert(name.clone(), Token { id, secret });
            }
            Write::TokenRevoke { name, .. } => {
                self.tokens.remove(name);
            }
            Write::VaultPut { name, value } => {
                self.vault.insert(name.clone(), value.clone());
            }
            Write::VaultDelete { name } => {
                self.vault.remove(name);
            }
            Write::AgentCreate {
                name,
                system,
                max_tokens,
            } => {
                let agent = Agent {
                    system: system.clone(),
                    max_tokens: *max_tokens,
                    conversations: BTreeMap::new(),
                };
                self.agents.insert(name.clone(), agent);
            }
            Write::AgentPatch {
                name,
                system,
                max_tokens,
            } => {
                if let Some(agent) = self.agents.get_mut(name) {
                    agent.system.clone_from(system);
                    agent.max_tokens = *max_tokens;
                }
            }
            Write::AgentDelete { name } => {
                self.agents.remove(name);
            }
            Write::Turn {
                agent,
                conversation,
                content,
                ..
            } => {
                let id = conversation
                    .clone()
                    .or_else(|| learned.conversation.clone())
                    .unwrap_or_else(|| UNKNOWN_ID.to_string());
                self.append(agent, &id, &exchange(content, reply, true));
            }
            Write::ConversationDelete {
                agent,
                conversation,
            } => {
                if let Some(agent) = self.agents.get_mut(agent) {
                    agent.conversations.remove(conversation);
                }
            }
        }
    }

    fn append(&mut self, agent: &str, conversation: &str, messages: &[Message]) {
        if messages.is_empty() {
            return;
        }
        if let Some(agent) = self.agents.get_mut(agent) {
            agent
                .conversations
                .entry(conversation.to_string())
                .or_default()
                .extend_from_slice(messages);
        }
    }
}

/// A turn's messages: the user message, and the reply when `answered`.
fn exchange(content: &str, reply: &str, answered: bool) -> Vec<Message> {
    let mut out = vec![Message {
        role: Role::User,
        content: content.to_string(),
    }];
    if answered {
        out.push(Message {
            role: Role::Assistant,
            content: reply.to_string(),
        });
    }
    out
}

impl InFlight {
    /// Every state the store may hold after a kill with this write in flight: untouched, or the
    /// write applied whole. A turn applies whole as the user message with its reply; a streamed
    /// turn may also leave the user message alone (an incomplete turn, stored before the upstream
    /// answered), and must have, once its `start` arrived. A JSON turn stores both in one
    /// transaction, so its user message never stands alone.
    pub fn outcomes(&self, before: &State, reply: &str) -> Vec<State> {
        let Write::Turn {
            agent,
            conversation,
            content,
            stream,
        } = &self.write
        else {
            let mut after = before.clone();
            after.apply(&self.write, &Learned::default(), reply);
            return vec![before.clone(), after];
        };
        let id = conversation
            .clone()
            .or_else(|| self.started.clone())
            .unwrap_or_else(|| UNKNOWN_ID.to_string());
        let mut endings = vec![exchange(content, reply, true)];
        if *stream {
            endings.push(exchange(content, reply, false));
        }
        if self.started.is_none() {
            endings.push(Vec::new());
        }
        endings
            .into_iter()
            .map(|messages| {
                let mut after = before.clone();
                after.append(agent, &id, &messages);
                after
            })
            .collect()
    }
}
