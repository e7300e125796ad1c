//! The built-in defaults: what Moxxy runs with when `config.toml` says nothing. The documented
//! `config.toml` at the repository root repeats every value here, and a test holds the two equal.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// Loopback only: nothing on the network reaches a fresh install (DESIGN.md, security rules).
pub const BIND: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3000));

/// 4 MiB: room for a long conversation with a few base64 images, small enough that a stray
/// upload cannot exhaust memory.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// Turns one agent holds, running and waiting together.
pub const AGENT_QUEUE_LIMIT: usize = 64;
/// The most running plus waiting turns one agent may hold: each waiting turn holds a connection,
/// and the queue's semaphore cannot count past a bound far above this.
pub const MAX_AGENT_QUEUE_LIMIT: usize = 100_000;
/// The most worker threads: far more than cores only costs memory and context switches.
pub const MAX_WORKERS: usize = 1_024;

/// Time for a request body to arrive whole: a 4 MiB body needs only ~1 Mbit/s; a client slower
/// than that is more likely an attack (slowloris) holding a connection than a real one.
pub const BODY_TIMEOUT_S: u64 = 30;

/// Time streams in flight get to finish after SIGTERM: most answers finish within it, and it
/// leaves room under the 30 s an orchestrator (Kubernetes, systemd) waits before `kill -9`.
pub const SHUTDOWN_GRACE_S: u64 = 10;

/// The longest either timeout above may be set to: an hour. Longer would only hold a connection
/// (or a stopping server) for nothing, and keeps every deadline far from the clock's limits.
pub const MAX_SERVER_TIMEOUT_S: u64 = 3600;

/// Relative to the working directory, like `./config.toml`.
pub const STORAGE_PATH: &str = "./moxxy-data";

/// The log level when neither `log.level` nor `RUST_LOG` says otherwise.
pub const LOG_LEVEL: &str = "info";

/// Anthropic's public API, without `/v1`, as the Anthropic SDKs read `ANTHROPIC_BASE_URL`.
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";

/// The OAuth token endpoint of Anthropic's console (PROTOCOLS.md §1.2: newer Claude Code uses
/// `https://platform.claude.com/v1/oauth/token`; either can be configured).
pub const ANTHROPIC_OAUTH_TOKEN_URL: &str = "https://console.anthropic.com/v1/oauth/token";

/// OpenAI's public API, with `/v1`, as the OpenAI SDKs read `OPENAI_BASE_URL`.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Where Ollama listens by default (`OLLAMA_HOST` unset).
pub const OLLAMA_BASE_URL: &str = "http://127.0.0.1:11434";

/// How often, in seconds, Moxxy asks Ollama whether it is up and which models are pulled, so a
/// model pulled while Moxxy runs is routable within seconds; 0 asks only at start.
pub const OLLAMA_DISCOVERY_INTERVAL_S: u64 = 10;

/// Retries after the first attempt (3 attempts in all), as the official SDKs do.
pub const MAX_RETRIES: u32 = 2;

/// The most retries a provider may be configured with: beyond this a failing upstream only
/// delays the error the caller will get anyway.
pub const MAX_RETRIES_LIMIT: u32 = 10;

/// Ten minutes, the official SDKs' default request timeout (long answers take minutes).
pub const TIMEOUT_MS: u64 = 600_000;

/// The default aliases (API.md, "Models and names"). Anthropic ids are the newest of each family
/// in PROTOCOLS.md §1.8 (undated ids, which follow the family's latest snapshot).
pub const ALIASES: [(&str, &str); 6] = [
    ("opus", "anthropic/claude-opus-5"),
    ("sonnet", "anthropic/claude-sonnet-5"),
    ("haiku", "anthropic/claude-haiku-4-5"),
    ("gpt-4.1", "openai/gpt-4.1"),
    ("o3", "openai/o3"),
    ("o4-mini", "openai/o4-mini"),
];
