//! The checked configuration the server runs with. Every value here has passed validation;
//! code using it need not check again.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use moxxy_actors::ratelimit::RateLimitConfig;
use serde::Serialize;

use super::defaults;

/// Everything `moxxy serve` is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub log: LogConfig,
    pub providers: ProvidersConfig,
    /// Alias to `PROVIDER/MODEL`: the defaults (`opus`, `sonnet`, `haiku`, `gpt-4.1`, `o3`,
    /// `o4-mini`) with the file's `[aliases]` added and overriding.
    pub aliases: BTreeMap<String, String>,
    /// The agents started at boot, in file order; names are unique ids.
    pub personas: Vec<PersonaConfig>,
    /// Where the configuration came from, for the start-up log.
    pub source: ConfigSource,
}

/// `[server]`: the HTTP listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where to listen; `127.0.0.1:3000` by default, so nothing on the network reaches a fresh
    /// install.
    pub bind: SocketAddr,
    /// The largest request body accepted (413 above it); 4 MiB by default.
    pub body_limit_bytes: usize,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// How many turns one agent holds, running and waiting together; one more gets 503.
    pub agent_queue_limit: usize,
    /// Seconds a request body may take to arrive whole once its headers are in; a client
    /// trickling it slower gets 408 and is disconnected (slowloris). 30 by default.
    pub body_timeout_s: u64,
    /// Seconds requests in flight may go on after SIGTERM or Ctrl-C before they end with an
    /// error (a 503, or an error event that ends a stream); 0 ends them at once. 10 by default.
    pub shutdown_grace_s: u64,
}

/// `[storage]`: where sled and the generated master key live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// The data directory; `./moxxy-data` by default.
    pub path: PathBuf,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// A `tracing` filter: a level (`info`) or directives (`moxxy=debug,info`).
    pub level: String,
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// `[providers.*]`: the built-in providers' settings (their keys come from the environment or
/// the vault, never from here).
#[derive(Debug, Clone, PartialEq)]
pub struct ProvidersConfig {
    pub anthropic: BuiltinProviderConfig,
    pub openai: BuiltinProviderConfig,
    pub ollama: BuiltinProviderConfig,
}

impl ProvidersConfig {
    /// Each built-in with its id, in the order the API lists them.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &BuiltinProviderConfig)> {
        [
            ("anthropic", &self.anthropic),
            ("openai", &self.openai),
            ("ollama", &self.ollama),
        ]
        .into_iter()
    }

    /// The built-in with this id.
    pub fn get(&self, id: &str) -> Option<&BuiltinProviderConfig> {
        self.iter()
            .find(|(name, _)| *name == id)
            .map(|(_, cfg)| cfg)
    }
}

/// One built-in provider's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltinProviderConfig {
    /// The upstream's address without a trailing `/`: Anthropic's without `/v1`, OpenAI's with
    /// it, Ollama's `http://host:port`.
    pub base_url: String,
    /// Anthropic's OAuth token endpoint; always `None` for the others.
    pub oauth_token_url: Option<String>,
    /// Retries after the first attempt (0–10); 2 by default.
    pub max_retries: u32,
    /// The request timeout in milliseconds; 600 000 by default.
    pub timeout_ms: u64,
    /// Our own limits, if any (each set limit is > 0).
    pub rate_limit: Option<RateLimitConfig>,
    /// Replaces the built-in model list when set.
    pub models: Option<Vec<String>>,
    /// Allows plain `http` to a host other than loopback (the key would travel in clear);
    /// false by default, always false for Ollama (which takes no key).
    pub allow_insecure_http: bool,
    /// Ollama only: seconds between discovery probes (`/api/version`, `/api/tags`); 0 probes
    /// only at start. 10 by default; unused by the other built-ins.
    pub discovery_interval_s: u64,
}

impl BuiltinProviderConfig {
    fn with_base_url(base_url: &str) -> Self {
        BuiltinProviderConfig {
            base_url: base_url.to_string(),
            oauth_token_url: None,
            max_retries: defaults::MAX_RETRIES,
            timeout_ms: defaults::TIMEOUT_MS,
            rate_limit: None,
            models: None,
            allow_insecure_http: false,
            discovery_interval_s: defaults::OLLAMA_DISCOVERY_INTERVAL_S,
        }
    }

    /// Anthropic's defaults.
    pub fn anthropic() -> Self {
        BuiltinProviderConfig {
            oauth_token_url: Some(defaults::ANTHROPIC_OAUTH_TOKEN_URL.to_string()),
            ..Self::with_base_url(defaults::ANTHROPIC_BASE_URL)
        }
    }

    /// OpenAI's defaults.
    pub fn openai() -> Self {
        Self::with_base_url(defaults::OPENAI_BASE_URL)
    }

    /// Ollama's defaults.
    pub fn ollama() -> Self {
        Self::with_base_url(defaults::OLLAMA_BASE_URL)
    }
}

/// One `[[personas]]` entry: an agent started at boot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonaConfig {
    /// The agent's id (`[a-z0-9][a-z0-9_-]{0,62}`), unique.
    pub name: String,
    /// An alias, a bare model id, or `PROVIDER/MODEL`; resolved by routing at request time.
    pub model: String,
    pub system: Option<String>,
    /// 0 to 2.
    pub temperature: Option<f64>,
    /// Greater than 0.
    pub max_tokens: Option<u32>,
    pub stop: Option<Vec<String>>,
}

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// No file: the built-in defaults (and the environment).
    Defaults,
    /// This file (and the environment).
    File(PathBuf),
    /// Text given to `from_toml_str` (and the environment).
    Inline,
}

impl ConfigSource {
    /// The file read, if one was.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigSource::File(path) => Some(path),
            ConfigSource::Defaults | ConfigSource::Inline => None,
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Defaults => f.write_str("built-in defaults (no config file found)"),
            ConfigSource::File(path) => write!(f, "{}", path.display()),
            ConfigSource::Inline => f.write_str("inline config"),
        }
    }
}

impl Default for Config {
    /// The built-in defaults, without reading a file or the environment.
    fn default() -> Self {
        Config {
            server: ServerConfig {
                bind: defaults::BIND,
                body_limit_bytes: defaults::BODY_LIMIT_BYTES,
                workers: None,
                agent_queue_limit: defaults::AGENT_QUEUE_LIMIT,
                body_timeout_s: defaults::BODY_TIMEOUT_S,
                shutdown_grace_s: defaults::SHUTDOWN_GRACE_S,
            },
            storage: StorageConfig {
                path: PathBuf::from(defaults::STORAGE_PATH),
            },
            log: LogConfig {
                level: defaults::LOG_LEVEL.to_string(),
                format: LogFormat::Text,
            },
            providers: ProvidersConfig {
                anthropic: BuiltinProviderConfig::anthropic(),
                openai: BuiltinProviderConfig::openai(),
                ollama: BuiltinProviderConfig::ollama(),
            },
            aliases: defaults::ALIASES
                .iter()
                .map(|(name, target)| ((*name).to_string(), (*target).to_string()))
                .collect(),
            personas: Vec::new(),
            source: ConfigSource::Defaults,
        }
    }
}

impl Config {
    /// The built-in defaults (same as `Config::default()`): for tests that need a config
    /// without a file or environment.
    pub fn default_for_tests() -> Config {
        Config::default()
    }
}
