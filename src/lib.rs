//! # moxxy — the server around the engine
//!
//! Everything around the actors of `moxxy-actors`: configuration, the sled registry, the vault,
//! `mox_` tokens, the REST API on port 3000 with its OpenAI-compatible endpoint, and the CLI.
//!
//! - [`config`]: `config.toml` plus environment overrides, validated.
//! - [`store`]: sled, one module per kind of record; every acknowledged write is flushed.
//! - [`vault`]: secrets encrypted at rest (AEAD) with the master key.
//! - [`auth`]: `mox_` tokens, scopes, and the request extractor.
//! - [`oauth`]: Anthropic OAuth sessions kept in the vault, and the sink refreshed pairs go to.
//! - [`agents`]: the running agents (config personas and stored ones) and their model router.
//! - [`directory`]: the running providers and their models, as routing sees them.
//! - [`discovery`]: Ollama's status and pulled models, asked at start and on a timer.
//! - [`model_lists`]: the built-in providers' live model lists, cached a few minutes.
//! - [`routing`]: `PROVIDER/MODEL`, bare ids and aliases to a provider and upstream model.
//! - [`api`]: the actix-web routes, one module per resource, one JSON error type.
//! - [`server`]: start-up, the HTTP server and graceful shutdown.
//! - [`shutdown`]: the shutdown signal and grace period as requests in flight see them.
//! - [`chat`]: `moxxy chat AGENT`, an interactive streamed chat with an agent.
//! - [`client`]: the CLI's client commands, talking to a running server.

pub mod agents;
pub mod api;
pub mod auth;
pub mod builtin_models;
pub mod chat;
pub mod client;
pub mod config;
pub mod directory;
pub mod discovery;
pub mod logging;
pub mod model_lists;
pub mod oauth;
pub mod registry;
pub mod routing;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod time;
pub mod vault;
