//! Agents created through the API (`POST /v1/agents`): their personas, restarted at boot.
//! Agents from `[[personas]]` in config.toml are not stored: the file is their record.

use moxxy_actors::agent::Persona;
use serde::{Deserialize, Serialize};

use sled::transaction::{ConflictableTransactionError, Transactional};

use super::record::{encode, Record, Table};
use super::{ConversationTree, Store, StoreError};

/// A stored agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub schema: u32,
    #[serde(flatten)]
    pub persona: Persona,
    pub created_at: String,
    pub updated_at: String,
}

impl Record for AgentRecord {
    const KIND: &'static str = "agent";

    fn key(&self) -> &str {
        &self.persona.name
    }

    fn schema(&self) -> u32 {
        self.schema
    }
}

/// The agents tree. Each write is flushed before it returns.
#[derive(Clone)]
pub struct AgentStore {
    table: Table<AgentRecord>,
    /// An agent's conversations go with it: created empty, deleted with it.
    conversations: ConversationTree,
}

impl AgentStore {
    pub(crate) fn new(store: Store, tree: sled::Tree, conversations: ConversationTree) -> Self {
        AgentStore {
            table: Table::new(store, tree),
            conversations,
        }
    }

    /// Every stored agent, sorted by name.
    pub fn list(&self) -> Result<Vec<AgentRecord>, StoreError> {
        self.table.list()
    }

    /// One agent.
    pub fn get(&self, name: &str) -> Result<Option<AgentRecord>, StoreError> {
        self.table.get(name)
    }

    /// Stores a new agent; [`StoreError::Conflict`] (and nothing written) if the name is taken.
    /// Conversations an earlier agent of that name left behind (a turn that finished after its
    /// deletion) are removed in the same transaction: a new agent starts with none.
    pub fn create(&self, record: &AgentRecord) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        self.table.store().ensure_room(bytes.len())?;
        let name = record.key();
        let leftovers = self.conversations.agent_keys(name)?;
        (self.table.tree(), self.conversations.tree())
            .transaction(|(agents, conversations)| {
                if agents.get(name.as_bytes())?.is_some() {
                    return Err(ConflictableTransactionError::Abort(StoreError::Conflict {
                        what: format!("agent '{name}'"),
                    }));
                }
                agents.insert(name.as_bytes(), bytes.as_slice())?;
                for key in &leftovers {
                    conversations.remove(key)?;
                }
                Ok(())
            })
            .map_err(|e| self.table.store().transaction_failed(e))?;
        self.table.store().flush()
    }

    /// Replaces an agent whole; [`StoreError::NotFound`] if it was deleted meanwhile.
    pub fn replace(&self, record: &AgentRecord) -> Result<(), StoreError> {
        self.table.replace(record)
    }

    /// Removes an agent and its conversations in one transaction, flushed: after a crash the
    /// agent is gone with all of them or there with all of them, never gone with its
    /// conversations left to reappear under a new agent of the same name. Answers whether the
    /// agent was there.
    pub fn delete(&self, name: &str) -> Result<bool, StoreError> {
        self.table.store().ensure_room_to_delete()?;
        let keys = self.conversations.agent_keys(name)?;
        let removed = (self.table.tree(), self.conversations.tree())
            .transaction(|(agents, conversations)| {
                let removed = agents.remove(name.as_bytes())?.is_some();
                for key in &keys {
                    conversations.remove(key)?;
                }
                Ok(removed)
            })
            .map_err(|e| self.table.store().transaction_failed(e))?;
        self.table.store().flush()?;
        Ok(removed)
    }
}
