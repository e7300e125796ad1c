//! One client of the crash test: it sends a steady mix of writes to the keys it owns, one at a
//! time, applying each acknowledged one (a 2xx read in full) to its expected state, until the
//! server dies under it; the write then in flight is kept as [`InFlight`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use super::e2e::Api;
use super::model::{InFlight, Learned, Provider, State, Write};
use super::observe::AGENT_MODEL;

/// Keys per kind a client cycles through, so patches and deletes find something to change.
const PROVIDERS: usize = 3;
const VAULT_ENTRIES: usize = 3;
const AGENTS: usize = 2;
/// Tokens a client keeps before it revokes more than it creates.
const TOKENS: usize = 3;
/// Conversations per agent before a new one replaces the oldest.
const CONVERSATIONS: usize = 2;

/// One client and what it expects of the store.
pub struct Client {
    pub index: usize,
    pub state: State,
    /// The write whose response was cut by the kill, if any.
    pub in_flight: Option<InFlight>,
    /// Writes acknowledged, all rounds.
    pub acknowledged: u64,
    /// Secrets of tokens whose revocation the store holds: they must never work again.
    pub revoked: Vec<String>,
    /// The current round (kills so far), for the journal.
    pub round: usize,
    /// One line per write sent, for the failure message.
    pub journal: Vec<String>,
    rng: StdRng,
    seq: u64,
}

/// How one write ended.
enum Sent {
    /// A 2xx, read whole.
    Acknowledged(Learned),
    /// No complete response: the server died, or the connection did.
    Lost { started: Option<String> },
}

impl Client {
    pub fn new(index: usize, seed: u64) -> Client {
        let mix = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Client {
            index,
            state: State::default(),
            in_flight: None,
            acknowledged: 0,
            revoked: Vec::new(),
            round: 0,
            journal: Vec::new(),
            rng: StdRng::seed_from_u64(seed ^ mix),
            seq: 0,
        }
    }

    /// Sends writes until one is cut short (the kill) or `stop` is set. `base_url` is where
    /// custom providers point; `reply` is the assistant text of every turn.
    pub async fn run(
        mut self,
        api: Api,
        base_url: String,
        reply: String,
        stop: Arc<AtomicBool>,
    ) -> Client {
        while !stop.load(Ordering::Relaxed) {
            let write = self.choose();
            let sent = send(&api, &base_url, &write).await;
            let line = format!(
                "round {} #{} {} {}",
                self.round,
                self.seq,
                write.kind(),
                write.key()
            );
            match sent {
                Sent::Acknowledged(learned) => {
                    let conversation = learned.conversation.as_deref().unwrap_or_default();
                    self.journal
                        .push(format!("{line}: acknowledged {conversation}"));
                    if let Write::TokenRevoke { name, .. } = &write {
                        let secret = self.state.tokens.get(name).and_then(|t| t.secret.clone());
                        self.revoked.extend(secret);
                    }
                    self.state.apply(&write, &learned, &reply);
                    self.acknowledged += 1;
                }
                Sent::Lost { started } => {
                    self.journal.push(format!("{line}: in flight at the kill"));
                    self.in_flight = Some(InFlight { write, started });
                    break;
                }
            }
        }
        self
    }

    /// The next write: a weighted mix over the kinds, each picked to make sense against the
    /// expected state (patch what exists, create what does not).
    fn choose(&mut self) -> Write {
        self.seq += 1;
        let roll = self.rng.random_range(0..100);
        match roll {
            0..16 => self.provider_write(),
            16..28 => self.vault_write(),
            28..38 => self.token_write(),
            38..50 => self.agent_write(),
            _ => self.turn_write(),
        }
    }

    fn name(&self, kind: char, n: usize) -> String {
        format!("c{}-{kind}{n}", self.index)
    }

    /// A value whose last four characters name its version, as the listings show them.
    fn versioned(&self, what: &str) -> String {
        format!("{what}-c{}-secret-value-{:06}", self.index, self.seq)
    }

    fn provider_write(&mut self) -> Write {
        let n = self.rng.random_range(0..PROVIDERS);
        let id = self.name('p', n);
        let provider = Provider {
            models: (0..self.rng.random_range(1..4))
                .map(|m| format!("m{}-{m}", self.seq))
                .collect(),
            key: self.versioned("sk-crash"),
        };
        if !self.state.providers.contains_key(&id) {
            Write::ProviderCreate { id, provider }
        } else if self.rng.random_bool(0.6) {
            Write::ProviderPatch { id, provider }
        } else {
            Write::ProviderDelete { id }
        }
    }

    fn vault_write(&mut self) -> Write {
        let n = self.rng.random_range(0..VAULT_ENTRIES);
        let name = self.name('v', n);
        if self.state.vault.contains_key(&name) && self.rng.random_bool(0.4) {
            Write::VaultDelete { name }
        } else {
            let value = self.versioned("vault");
            Write::VaultPut { name, value }
        }
    }

    fn token_write(&mut self) -> Write {
        let live: Vec<(String, String)> = self
            .state
            .tokens
            .iter()
            .map(|(name, token)| (name.clone(), token.id.clone()))
            .collect();
        if live.is_empty() || (live.len() < TOKENS && self.rng.random_bool(0.6)) {
            return Write::TokenCreate {
                name: self.name('t', self.seq as usize),
            };
        }
        let (name, id) = live[self.rng.random_range(0..live.len())].clone();
        Write::TokenRevoke { name, id }
    }

    fn agent_write(&mut self) -> Write {
        let n = self.rng.random_range(0..AGENTS);
        let name = self.name('a', n);
        let system = format!("You are agent {name}, version {}.", self.seq);
        let max_tokens = self.rng.random_range(16..4096);
        if !self.state.agents.contains_key(&name) {
            Write::AgentCreate {
                name,
                system,
                max_tokens,
            }
        } else if self.rng.random_bool(0.75) {
            Write::AgentPatch {
                name,
                system,
                max_tokens,
            }
        } else {
            Write::AgentDelete { name }
        }
    }

    fn turn_write(&mut self) -> Write {
        let agents: Vec<String> = self.state.agents.keys().cloned().collect();
        if agents.is_empty() {
            return self.agent_write();
        }
        let agent = agents[self.rng.random_range(0..agents.len())].clone();
        let conversations: Vec<String> = self.state.agents[&agent]
            .conversations
            .keys()
            .cloned()
            .collect();
        let continue_one = !conversations.is_empty() && self.rng.random_bool(0.6);
        if !continue_one && conversations.len() >= CONVERSATIONS {
            let conversation = conversations[self.rng.random_range(0..conversations.len())].clone();
            return Write::ConversationDelete {
                agent,
                conversation,
            };
        }
        let conversation = continue_one
            .then(|| conversations[self.rng.random_range(0..conversations.len())].clone());
        let padding = "lorem ipsum ".repeat(self.rng.random_range(0..40));
        Write::Turn {
            agent,
            conversation,
            content: format!("c{} turn {}: {padding}answer briefly", self.index, self.seq),
            stream: self.rng.random_bool(0.5),
        }
    }
}

/// Sends one write and tells how it ended. A complete response that is not the expected 2xx is
/// a failure of the server, not of the kill: it panics with the response.
async fn send(api: &Api, base_url: &str, write: &Write) -> Sent {
    let (method, path, body) = match write {
        Write::ProviderCreate { id, provider } => (
            Method::POST,
            "/v1/providers".to_string(),
            Some(
                json!({"name": id, "base_url": base_url, "api_key": provider.key,
                        "models": provider.models}),
            ),
        ),
        Write::ProviderPatch { id, provider } => (
            Method::PATCH,
            format!("/v1/providers/{id}"),
            Some(json!({"api_key": provider.key, "models": provider.models})),
        ),
        Write::ProviderDelete { id } => (Method::DELETE, format!("/v1/providers/{id}"), None),
        Write::TokenCreate { name } => (
            Method::POST,
            "/v1/tokens".to_string(),
            Some(json!({"name": name, "scopes": ["read"]})),
        ),
        Write::TokenRevoke { id, .. } => (Method::DELETE, format!("/v1/tokens/{id}"), None),
        Write::VaultPut { name, value } => (
            Method::PUT,
            format!("/v1/vault/{name}"),
            Some(json!({"value": value})),
        ),
        Write::VaultDelete { name } => (Method::DELETE, format!("/v1/vault/{name}"), None),
        Write::AgentCreate {
            name,
            system,
            max_tokens,
        } => (
            Method::POST,
            "/v1/agents".to_string(),
            Some(json!({"name": name, "model": AGENT_MODEL, "system": system,
                        "max_tokens": max_tokens})),
        ),
        Write::AgentPatch {
            name,
            system,
            max_tokens,
        } => (
            Method::PATCH,
            format!("/v1/agents/{name}"),
            Some(json!({"system": system, "max_tokens": max_tokens})),
        ),
        Write::AgentDelete { name } => (Method::DELETE, format!("/v1/agents/{name}"), None),
        Write::Turn {
            agent,
            conversation,
            content,
            stream,
        } => {
            let mut body = json!({"content": content, "stream": stream});
            if let Some(id) = conversation {
                body["conversation_id"] = json!(id);
            }
            let path = format!("/v1/agents/{agent}/messages");
            if *stream {
                return streamed_turn(api, &path, body).await;
            }
            (Method::POST, path, Some(body))
        }
        Write::ConversationDelete {
            agent,
            conversation,
        } => (
            Method::DELETE,
            format!("/v1/agents/{agent}/conversations/{conversation}"),
            None,
        ),
    };
    let mut request = api.request(method.clone(), &path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let Ok(response) = request.send().await else {
        return Sent::Lost { started: None };
    };
    let status = response.status().as_u16();
    let Ok(text) = response.text().await else {
        return Sent::Lost { started: None };
    };
    assert!(
        (200..300).contains(&status),
        "{method} {path} ({}) was refused: {status}\n{text}",
        write.kind()
    );
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let mut learned = Learned::default();
    match write {
        Write::TokenCreate { .. } => {
            let field = |name: &str| answer[name].as_str().unwrap_or_default().to_string();
            learned.token = Some((field("id"), field("token")));
        }
        Write::Turn { .. } => {
            learned.conversation = answer["conversation_id"].as_str().map(str::to_string);
        }
        _ => {}
    }
    Sent::Acknowledged(learned)
}

/// A streamed turn: acknowledged once the stream ends after `done`; its `start` event alone
/// acknowledges the user message.
async fn streamed_turn(api: &Api, path: &str, body: Value) -> Sent {
    let lost = |started: Option<String>| Sent::Lost { started };
    let Ok(mut response) = api.request(Method::POST, path).json(&body).send().await else {
        return lost(None);
    };
    let status = response.status().as_u16();
    if status != 200 {
        let Ok(text) = response.text().await else {
            return lost(None);
        };
        panic!("POST {path} (stream) was refused: {status}\n{text}");
    }
    let mut text = String::new();
    let mut started = None;
    let mut done = false;
    loop {
        match response.chunk().await {
            Ok(Some(bytes)) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(None) => break,
            Err(_) => return lost(started),
        }
        // Only whole events: up to the last blank line.
        let whole = text.rfind("\n\n").map_or("", |end| &text[..end]);
        for (event, data) in super::sse_events(whole) {
            match event.as_str() {
                "start" => started = data["conversation_id"].as_str().map(str::to_string),
                "done" => done = true,
                "error" => panic!("POST {path} (stream) ended with an error event:\n{text}"),
                _ => {}
            }
        }
    }
    assert!(done, "POST {path} (stream) ended without `done`:\n{text}");
    Sent::Acknowledged(Learned {
        token: None,
        conversation: started,
    })
}
