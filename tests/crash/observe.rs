//! What the restarted server holds, read through the API and sorted by the client that owns
//! each key (`cN-…`). Reading checks that every record is whole: a provider has all its fields
//! and a key, an agent's conversation count matches its conversations, a conversation's message
//! count matches its messages, and `incomplete` marks exactly the user messages no reply follows.

use std::collections::BTreeMap;

use serde_json::Value;

use super::e2e::Api;
use super::model::{Message, Role};

/// The model every client's agents use: the built-in OpenAI provider, on the fake.
pub const AGENT_MODEL: &str = "openai/gpt-4.1";

/// A custom provider as listed; the key shows only as its last four characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenProvider {
    pub models: Vec<String>,
    pub last4: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenAgent {
    pub system: String,
    pub max_tokens: u64,
    pub conversations: BTreeMap<String, Vec<Message>>,
}

/// One client's keys as the server holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub providers: BTreeMap<String, SeenProvider>,
    /// Token name → id.
    pub tokens: BTreeMap<String, String>,
    /// Vault entry name → last four characters of its value.
    pub vault: BTreeMap<String, String>,
    pub agents: BTreeMap<String, SeenAgent>,
}

/// The client a key belongs to: `c3-p1` → 3.
fn owner(name: &str) -> Option<usize> {
    name.strip_prefix('c')?.split_once('-')?.0.parse().ok()
}

fn data(api_resp: &Value) -> Vec<Value> {
    api_resp["data"].as_array().cloned().unwrap_or_default()
}

fn text(value: &Value, field: &str, context: &Value) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is not a string in {context}"))
        .to_string()
}

/// Reads every client's keys. `base_url` is the one every custom provider was registered with.
pub async fn observe(api: &Api, base_url: &str, clients: usize) -> Vec<Seen> {
    let mut seen = vec![Seen::default(); clients];
    let slot = |name: &str| owner(name).filter(|&i| i < clients);

    for provider in data(&api.get("/v1/providers").await.expect(200).json()) {
        let id = text(&provider, "id", &provider);
        let Some(i) = slot(&id) else {
            continue;
        };
        assert_eq!(provider["kind"], "openai_compatible", "{provider}");
        assert_eq!(provider["base_url"], base_url, "{provider}");
        assert_eq!(provider["auth"]["type"], "api_key", "{provider}");
        assert_eq!(provider["auth"]["source"], "registration", "{provider}");
        assert!(provider["created_at"].is_string(), "{provider}");
        let last4 = text(&provider["auth"], "last4", &provider);
        assert_eq!(last4.len(), 4, "{provider}");
        let models: Vec<String> = provider["models"]
            .as_array()
            .unwrap_or_else(|| panic!("no models in {provider}"))
            .iter()
            .map(|m| m.as_str().unwrap_or_default().to_string())
            .collect();
        assert!(!models.is_empty(), "{provider}");
        seen[i].providers.insert(id, SeenProvider { models, last4 });
    }

    for token in data(&api.get("/v1/tokens").await.expect(200).json()) {
        let name = text(&token, "name", &token);
        let Some(i) = slot(&name) else {
            continue;
        };
        assert_eq!(token["scopes"], serde_json::json!(["read"]), "{token}");
        let id = text(&token, "id", &token);
        assert!(seen[i].tokens.insert(name, id).is_none(), "{token}");
    }

    for entry in data(&api.get("/v1/vault").await.expect(200).json()) {
        let name = text(&entry, "name", &entry);
        let Some(i) = slot(&name) else {
            continue;
        };
        let last4 = text(&entry, "last4", &entry);
        seen[i].vault.insert(name, last4);
    }

    for agent in data(&api.get("/v1/agents").await.expect(200).json()) {
        let name = text(&agent, "name", &agent);
        let Some(i) = slot(&name) else {
            continue;
        };
        assert_eq!(agent["model"], AGENT_MODEL, "{agent}");
        assert_eq!(agent["source"], "api", "{agent}");
        let conversations = conversations(api, &name).await;
        assert_eq!(
            agent["conversations"].as_u64(),
            Some(conversations.len() as u64),
            "the agent's conversation count matches its conversations: {agent}"
        );
        let seen_agent = SeenAgent {
            system: text(&agent, "system", &agent),
            max_tokens: agent["max_tokens"].as_u64().unwrap_or_default(),
            conversations,
        };
        seen[i].agents.insert(name, seen_agent);
    }
    seen
}

/// An agent's conversations with their messages, each checked whole.
async fn conversations(api: &Api, agent: &str) -> BTreeMap<String, Vec<Message>> {
    let path = format!("/v1/agents/{agent}/conversations");
    let mut out = BTreeMap::new();
    for summary in data(&api.get(&path).await.expect(200).json()) {
        let id = text(&summary, "id", &summary);
        let full = api.get(&format!("{path}/{id}")).await.expect(200).json();
        let listed = full["messages"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            summary["messages"].as_u64(),
            Some(listed.len() as u64),
            "the conversation record's count matches its messages: {full}"
        );
        let mut messages = Vec::new();
        for (n, message) in listed.iter().enumerate() {
            let role = match message["role"].as_str() {
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                _ => panic!("a message with an odd role in {full}"),
            };
            let answered = listed
                .get(n + 1)
                .is_some_and(|next| next["role"] == "assistant");
            let flagged = message.get("incomplete") == Some(&Value::Bool(true));
            assert_eq!(
                flagged,
                role == Role::User && !answered,
                "`incomplete` marks exactly the user messages no reply follows: {full}"
            );
            messages.push(Message {
                role,
                content: text(message, "content", &full),
            });
        }
        out.insert(id, messages);
    }
    out
}
