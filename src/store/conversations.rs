//! Conversations and their messages, in one tree so that a turn's writes are one transaction.
//!
//! Keys: `c/AGENT/CONVERSATION` holds the conversation's record (timestamps, message count and
//! the next message's sequence number); `m/AGENT/CONVERSATION/SEQ` (SEQ as 16 hex digits, so
//! keys sort in order) holds one message. Agent names and conversation ids never contain `/`
//! (the API checks both). A turn's messages and the updated conversation record are written in
//! one sled transaction and flushed before the call returns: after `kill -9` a message is there
//! whole or not at all, and the record always matches the messages.

use moxxy_actors::agent::{ConversationStore, HistoryError, StoredMessage};
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;

use super::record::{decode, encode, Record};
use super::{NoRoom, OutOfSpace, Store, StoreError, SCHEMA};

/// A conversation's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRecord {
    pub schema: u32,
    pub id: String,
    pub agent: String,
    pub created_at: String,
    pub updated_at: String,
    /// How many messages it holds.
    pub messages: u64,
    /// The sequence number the next message gets.
    pub next_seq: u64,
}

impl Record for ConversationRecord {
    const KIND: &'static str = "conversation";

    fn key(&self) -> &str {
        &self.id
    }

    fn schema(&self) -> u32 {
        self.schema
    }
}

/// One stored message, with when it was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub schema: u32,
    #[serde(flatten)]
    pub message: StoredMessage,
    pub created_at: String,
}

impl Record for MessageRecord {
    const KIND: &'static str = "message";

    fn key(&self) -> &str {
        &self.message.id
    }

    fn schema(&self) -> u32 {
        self.schema
    }
}

/// The conversations tree.
#[derive(Clone)]
pub struct ConversationTree {
    store: Store,
    tree: sled::Tree,
}

fn conversation_key(agent: &str, conversation: &str) -> String {
    format!("c/{agent}/{conversation}")
}

fn messages_prefix(agent: &str, conversation: &str) -> String {
    format!("m/{agent}/{conversation}/")
}

impl ConversationTree {
    pub(crate) fn new(store: Store, tree: sled::Tree) -> Self {
        ConversationTree { store, tree }
    }

    /// One conversation's record.
    pub fn get(
        &self,
        agent: &str,
        conversation: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let key = conversation_key(agent, conversation);
        match self
            .tree
            .get(key.as_bytes())
            .map_err(|e| self.store.failed(e))?
        {
            Some(bytes) => decode(key.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// An agent's conversations, most recently updated first.
    pub fn list(&self, agent: &str) -> Result<Vec<ConversationRecord>, StoreError> {
        let mut out: Vec<ConversationRecord> = Vec::new();
        for item in self.tree.scan_prefix(format!("c/{agent}/").as_bytes()) {
            let (key, bytes) = item.map_err(|e| self.store.failed(e))?;
            out.push(decode(&key, &bytes)?);
        }
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// How many conversations an agent has.
    pub fn count(&self, agent: &str) -> usize {
        self.tree
            .scan_prefix(format!("c/{agent}/").as_bytes())
            .count()
    }

    /// A conversation's messages, oldest first; `None` when it does not exist.
    pub fn messages(
        &self,
        agent: &str,
        conversation: &str,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError> {
        if self.get(agent, conversation)?.is_none() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for item in self
            .tree
            .scan_prefix(messages_prefix(agent, conversation).as_bytes())
        {
            let (key, bytes) = item.map_err(|e| self.store.failed(e))?;
            out.push(decode(&key, &bytes)?);
        }
        Ok(Some(out))
    }

    /// Appends messages in one transaction and flushes; see [`ConversationStore::append`].
    pub fn append(
        &self,
        agent: &str,
        conversation: &str,
        messages: &[StoredMessage],
        start: bool,
    ) -> Result<(), StoreError> {
        let now = crate::time::now_rfc3339();
        let key = conversation_key(agent, conversation);
        let prefix = messages_prefix(agent, conversation);
        let records: Vec<MessageRecord> = messages
            .iter()
            .map(|message| MessageRecord {
                schema: SCHEMA,
                message: message.clone(),
                created_at: now.clone(),
            })
            .collect();
        let encoded: Vec<Vec<u8>> = records.iter().map(encode).collect::<Result<_, _>>()?;
        self.store
            .ensure_room(encoded.iter().map(Vec::len).sum::<usize>() + 512)?;
        let abort = ConflictableTransactionError::Abort;
        self.tree
            .transaction(|tx| {
                let existing = match tx.get(key.as_bytes())? {
                    Some(bytes) => {
                        Some(decode::<ConversationRecord>(key.as_bytes(), &bytes).map_err(abort)?)
                    }
                    None => None,
                };
                let mut record = match (existing, start) {
                    (Some(record), false) => record,
                    (None, true) => ConversationRecord {
                        schema: SCHEMA,
                        id: conversation.to_string(),
                        agent: agent.to_string(),
                        created_at: now.clone(),
                        updated_at: now.clone(),
                        messages: 0,
                        next_seq: 0,
                    },
                    (Some(_), true) => {
                        return Err(abort(StoreError::Conflict {
                            what: format!("conversation '{conversation}'"),
                        }))
                    }
                    (None, false) => {
                        return Err(abort(StoreError::NotFound {
                            what: format!("conversation '{conversation}'"),
                        }))
                    }
                };
                for bytes in &encoded {
                    let message_key = format!("{prefix}{:016x}", record.next_seq);
                    tx.insert(message_key.as_bytes(), bytes.as_slice())?;
                    record.next_seq += 1;
                    record.messages += 1;
                }
                record.updated_at = now.clone();
                tx.insert(key.as_bytes(), encode(&record).map_err(abort)?)?;
                Ok(())
            })
            .map_err(|e| self.transaction_failed(e))?;
        self.store.flush()
    }

    /// Removes one message (the last one with `message_id`) and counts it out of its
    /// conversation, in one transaction, flushed.
    pub fn remove_message(
        &self,
        agent: &str,
        conversation: &str,
        message_id: &str,
    ) -> Result<(), StoreError> {
        let mut found = None;
        for item in self
            .tree
            .scan_prefix(messages_prefix(agent, conversation).as_bytes())
            .rev()
        {
            let (key, bytes) = item.map_err(|e| self.store.failed(e))?;
            let record: MessageRecord = decode(&key, &bytes)?;
            if record.message.id == message_id {
                found = Some(key);
                break;
            }
        }
        let Some(message_key) = found else {
            return Ok(());
        };
        self.store.ensure_room_to_delete()?;
        let key = conversation_key(agent, conversation);
        let abort = ConflictableTransactionError::Abort;
        self.tree
            .transaction(|tx| {
                if tx.remove(&message_key)?.is_none() {
                    return Ok(());
                }
                if let Some(bytes) = tx.get(key.as_bytes())? {
                    let mut record: ConversationRecord =
                        decode(key.as_bytes(), &bytes).map_err(abort)?;
                    record.messages = record.messages.saturating_sub(1);
                    tx.insert(key.as_bytes(), encode(&record).map_err(abort)?)?;
                }
                Ok(())
            })
            .map_err(|e| self.transaction_failed(e))?;
        self.store.flush()
    }

    /// Removes a conversation and its messages; answers whether it was there.
    pub fn delete(&self, agent: &str, conversation: &str) -> Result<bool, StoreError> {
        self.store.ensure_room_to_delete()?;
        let key = conversation_key(agent, conversation);
        let removed = self
            .tree
            .remove(key.as_bytes())
            .map_err(|e| self.store.failed(e))?;
        // The record goes first: from then on the conversation does not exist, and a turn that
        // was about to append to it fails with NotFound instead of writing.
        self.remove_prefix(&messages_prefix(agent, conversation))?;
        self.store.flush()?;
        Ok(removed.is_some())
    }

    /// The tree, for a transaction that spans it and the agents tree.
    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// Every key (conversation records and messages) of an agent's conversations.
    pub(crate) fn agent_keys(&self, agent: &str) -> Result<Vec<sled::IVec>, StoreError> {
        let mut keys = Vec::new();
        for prefix in [format!("c/{agent}/"), format!("m/{agent}/")] {
            for item in self.tree.scan_prefix(prefix.as_bytes()).keys() {
                keys.push(item.map_err(|e| self.store.failed(e))?);
            }
        }
        Ok(keys)
    }

    /// Removes every conversation of an agent (what a turn still running at the agent's
    /// deletion may have written after it).
    pub fn delete_agent(&self, agent: &str) -> Result<(), StoreError> {
        self.store.ensure_room_to_delete()?;
        self.remove_prefix(&format!("c/{agent}/"))?;
        self.remove_prefix(&format!("m/{agent}/"))?;
        self.store.flush()
    }

    /// A failed transaction as a store error; a storage failure marks the store unhealthy.
    fn transaction_failed(
        &self,
        error: sled::transaction::TransactionError<StoreError>,
    ) -> StoreError {
        match StoreError::from(error) {
            StoreError::Io(io) => self.store.failed(io),
            other => other,
        }
    }

    fn remove_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for item in self.tree.scan_prefix(prefix.as_bytes()) {
            let (key, _) = item.map_err(|e| self.store.failed(e))?;
            batch.remove(key);
        }
        self.tree
            .apply_batch(batch)
            .map_err(|e| self.store.failed(e))
    }
}

impl ConversationStore for ConversationTree {
    fn history(
        &self,
        agent: &str,
        conversation: &str,
    ) -> Result<Option<Vec<StoredMessage>>, HistoryError> {
        self.messages(agent, conversation)
            .map(|found| found.map(|records| records.into_iter().map(|r| r.message).collect()))
            .map_err(|e| HistoryError::Failed(e.to_string()))
    }

    fn append(
        &self,
        agent: &str,
        conversation: &str,
        messages: &[StoredMessage],
        start: bool,
    ) -> Result<(), HistoryError> {
        ConversationTree::append(self, agent, conversation, messages, start).map_err(|e| match e {
            StoreError::NotFound { .. } => HistoryError::NotFound {
                agent: agent.to_string(),
                conversation: conversation.to_string(),
            },
            other => history_error(&other),
        })
    }

    fn remove(
        &self,
        agent: &str,
        conversation: &str,
        message_id: &str,
        drop_conversation: bool,
    ) -> Result<(), HistoryError> {
        let removed = if drop_conversation {
            self.delete(agent, conversation).map(|_| ())
        } else {
            self.remove_message(agent, conversation, message_id)
        };
        removed.map_err(|e| history_error(&e))
    }
}

/// A failed write as the engine sees it: a full disk told apart from other failures.
fn history_error(error: &StoreError) -> HistoryError {
    match error.no_room() {
        Some(no_room) => HistoryError::StorageFull {
            restart: no_room == NoRoom::FreeSpaceAndRestart,
        },
        None => HistoryError::Failed(error.to_string()),
    }
}
