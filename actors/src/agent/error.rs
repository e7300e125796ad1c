//! Why a turn could not be taken or did not finish.

use super::history::HistoryError;
use crate::error::ProviderError;

/// A turn's failure. Each message says what happened and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AgentError {
    /// The agent's queue is full: `limit` turns are running or waiting.
    #[error("Agent '{agent}' is busy: {limit} turns are already running or waiting - retry later")]
    Busy { agent: String, limit: usize },
    /// The conversation is unknown, or storing the turn failed.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// Routing the persona's model or the upstream request failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The agent was removed while the turn was being admitted.
    #[error("The agent stopped before it could take the turn - try again")]
    Stopped,
}
