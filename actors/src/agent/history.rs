//! The stored side of a conversation, and the trait through which an agent reaches storage.

use serde::{Deserialize, Serialize};

use crate::messages::{ContentPart, Message, Role, StopReason, Usage};

/// One message of a conversation as it is kept: the user's (text, images, tool results) or the
/// assistant's (text, thinking with its signature, tool calls), whole, so the next turn can
/// replay it to any protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// `msg_…`, unique within the conversation.
    pub id: String,
    /// `user` or `assistant`.
    pub role: Role,
    pub content: Vec<ContentPart>,
    /// The upstream's counts, on an assistant message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Why the model stopped, on an assistant message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
}

impl StoredMessage {
    /// The message as the next request carries it.
    pub fn to_message(&self) -> Message {
        Message {
            role: self.role,
            content: self.content.clone(),
            name: None,
            extra: Default::default(),
        }
    }
}

/// Why the store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// No such conversation (never started, or deleted).
    #[error("Conversation '{conversation}' not found for agent '{agent}'")]
    NotFound { agent: String, conversation: String },
    /// The storage failed; the message says why without repeating any content.
    #[error("the conversation could not be stored: {0}")]
    Failed(String),
    /// The disk the store writes to is full; nothing was stored. Told apart from [`Failed`]
    /// so the host can say what to fix: free space, and with `restart`, restart the host too
    /// (its store stopped taking writes).
    ///
    /// [`Failed`]: HistoryError::Failed
    #[error("the conversation could not be stored: the disk is full")]
    StorageFull { restart: bool },
}

/// Where conversations are kept. Implemented by the host (the server, over sled); calls block,
/// so the agent makes them on a blocking thread.
pub trait ConversationStore: Send + Sync + 'static {
    /// The messages of `conversation`, oldest first; `None` when it does not exist.
    fn history(
        &self,
        agent: &str,
        conversation: &str,
    ) -> Result<Option<Vec<StoredMessage>>, HistoryError>;

    /// Appends `messages` in order, all or none, and makes them durable before returning: a turn
    /// is acknowledged only after this. With `start` the conversation is created by this call
    /// (and it is an error if it exists); otherwise it must exist (`NotFound` if it was deleted
    /// meanwhile).
    fn append(
        &self,
        agent: &str,
        conversation: &str,
        messages: &[StoredMessage],
        start: bool,
    ) -> Result<(), HistoryError>;

    /// Removes message `message_id` again (a turn the upstream refused after its user message
    /// was written), durably; with `drop_conversation`, the conversation that message created
    /// goes too. A message that is not there is no error.
    fn remove(
        &self,
        agent: &str,
        conversation: &str,
        message_id: &str,
        drop_conversation: bool,
    ) -> Result<(), HistoryError>;
}
