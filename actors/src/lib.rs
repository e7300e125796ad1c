//! # moxxy-actors — Moxxy's engine
//!
//! The actor system and the LLM provider wire protocols, with no web server and no storage, so it
//! can be embedded in any program.
//!
//! - [`agent`]: the agent actor: a persona, its conversations, turns stored through a trait.
//! - [`messages`]: the unified chat types every protocol maps to and from.
//! - [`provider`]: the provider actor and one module per wire protocol (`anthropic`, `openai`,
//!   `ollama`), with the SSE and NDJSON decoders they share.
//! - [`supervisor`]: spawns, replaces and restarts provider actors; the only way to find one.
//! - [`retry`]: backoff, `Retry-After`, the shared cool-down and the circuit breaker.
//! - [`ratelimit`]: requests- and tokens-per-minute limits.
//! - [`secret`]: keys in a type that cannot be printed by accident.

pub mod agent;
pub mod error;
pub mod messages;
pub mod provider;
pub mod ratelimit;
pub mod retry;
pub mod secret;
pub mod supervisor;

pub use error::{ErrorKind, ProviderError};
pub use messages::*;
pub use secret::ApiKey;
