//! Agents created through the API (`POST /v1/agents`): their personas, restarted at boot.
//! Agents from `[[personas]]` in config.toml are not stored: the file is their record.

use moxxy_actors::agent::Persona;
use serde::{Deserialize, Serialize};

use super::record::{Record, Table};
use super::{Store, StoreError};

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
}

impl AgentStore {
    pub(crate) fn new(store: Store, tree: sled::Tree) -> Self {
        AgentStore {
            table: Table::new(store, tree),
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

    /// Stores a new agent; [`StoreError::Conflict`] if the name is taken.
    pub fn create(&self, record: &AgentRecord) -> Result<(), StoreError> {
        self.table.create(record)
    }

    /// Replaces an agent whole; [`StoreError::NotFound`] if it was deleted meanwhile.
    pub fn replace(&self, record: &AgentRecord) -> Result<(), StoreError> {
        self.table.replace(record)
    }

    /// Removes an agent (not its conversations: see [`super::ConversationTree::delete_agent`]);
    /// answers whether it was there.
    pub fn delete(&self, name: &str) -> Result<bool, StoreError> {
        self.table.delete(name)
    }
}
