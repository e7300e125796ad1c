//! # Agents
//!
//! An agent is an actor that owns a persona (its model, system prompt and sampling settings) and
//! its conversations. A turn sends the persona, the conversation's history and the new user
//! message to the provider the persona's model routes to, and stores the exchange.
//!
//! - [`persona`]: what an agent is configured with.
//! - [`history`]: the stored messages and the [`ConversationStore`] trait the host implements
//!   (the server does it over sled), so this crate stays free of any storage engine.
//! - [`actor`]: the [`AgentActor`]: it admits turns (a bounded queue per agent), orders the turns
//!   of one conversation and lets different conversations run at once.
//! - [`turn`]: one turn, run where the caller polls it (like a provider's completion), so an
//!   agent never serializes I/O onto its own thread and a caller that goes away cancels its turn.
//!
//! What a turn stores, and when: the user message, durably, before the caller sees anything of
//! the reply — for a streamed turn it is written while the upstream works on its first event, and
//! taken back if the upstream refuses; for a whole answer it is written with the reply. The
//! assistant message is stored when the reply is complete. A refused request therefore changes
//! nothing, and a reply cut short (the caller left, the upstream broke off, the process died)
//! leaves the user message without a reply — an *incomplete* turn — after which the next turn
//! works as usual.

pub mod actor;
mod error;
pub mod history;
pub mod persona;
pub mod turn;

pub use self::actor::{AgentActor, GetPersona, SetPersona, StartTurn};
pub use self::error::AgentError;
pub use self::history::{ConversationStore, HistoryError, StoredMessage};
pub use self::persona::Persona;
pub use self::turn::{start_turn, ModelRouter, Route, Started, TurnEvent, TurnRequest, TurnStream};

/// A fresh id: `prefix` and 24 random hex digits (96 bits), e.g. `conv_5f0c…`.
pub fn new_id(prefix: &str) -> String {
    let bits: u128 = rand::random::<u128>() >> 32;
    format!("{prefix}_{bits:024x}")
}
