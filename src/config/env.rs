//! The environment's layer: variables that win over the file (API.md, "Running it"). Keys
//! (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, `MOXXY_MASTER_KEY`) are not configuration and are
//! never read here; the code that needs them reads them.
//!
//! A variable set to an empty (or blank) value counts as unset, as `export VAR=` usually means
//! "no value" in a shell; it never erases a setting of the file.

use moxxy_actors::provider::ollama::parse_host;

/// The config file to read instead of `./config.toml`.
pub const MOXXY_CONFIG: &str = "MOXXY_CONFIG";
/// `server.bind`.
pub const MOXXY_BIND: &str = "MOXXY_BIND";
/// `storage.path`.
pub const MOXXY_DATA_DIR: &str = "MOXXY_DATA_DIR";
/// `providers.anthropic.base_url`, without `/v1` as the Anthropic SDKs read it.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
/// `providers.openai.base_url`, with `/v1` as the OpenAI SDKs read it.
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
/// `providers.anthropic.oauth_token_url`.
pub const ANTHROPIC_OAUTH_TOKEN_URL: &str = "ANTHROPIC_OAUTH_TOKEN_URL";
/// `providers.ollama.base_url`, in any of the forms Ollama reads.
pub const OLLAMA_HOST: &str = "OLLAMA_HOST";
/// `log.level`: any `tracing` filter.
pub const RUST_LOG: &str = "RUST_LOG";

/// The overrides found in the environment, each still to be checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvOverrides {
    pub bind: Option<String>,
    pub data_dir: Option<String>,
    pub anthropic_base_url: Option<String>,
    pub openai_base_url: Option<String>,
    pub anthropic_oauth_token_url: Option<String>,
    /// Already turned into a URL the way Ollama reads `OLLAMA_HOST` (`host`, `host:port`,
    /// `http://host:port`, …).
    pub ollama_base_url: Option<String>,
    pub log_level: Option<String>,
}

impl EnvOverrides {
    /// Reads the overrides through `env` (the process environment, or a map in tests).
    pub fn read(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        EnvOverrides {
            bind: get(MOXXY_BIND),
            data_dir: get(MOXXY_DATA_DIR),
            anthropic_base_url: get(ANTHROPIC_BASE_URL),
            openai_base_url: get(OPENAI_BASE_URL),
            anthropic_oauth_token_url: get(ANTHROPIC_OAUTH_TOKEN_URL),
            ollama_base_url: get(OLLAMA_HOST).map(|host| parse_host(Some(&host))),
            log_level: get(RUST_LOG),
        }
    }
}

/// The config file named by `MOXXY_CONFIG`, if set (blank counts as unset).
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    env(MOXXY_CONFIG).filter(|v| !v.trim().is_empty())
}
