//! Raw config to checked config: each setting is taken from the environment, else the file, else
//! the default, and checked where it came from, so an error names the variable or the key.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use super::env::{self, EnvOverrides};
use super::error::{ConfigError, Origin};
use super::file::{RawConfig, RawLog, RawServer, RawStorage};
use super::keypath::KeyPath;
use super::providers::{provider, Builtin};
use super::{defaults, models, personas};
use super::{
    Config, ConfigSource, LogConfig, LogFormat, ProvidersConfig, ServerConfig, StorageConfig,
};

/// Builds the checked configuration from the file's settings and the environment's.
pub fn build(
    raw: RawConfig,
    env: &EnvOverrides,
    file: &str,
    source: ConfigSource,
) -> Result<Config, ConfigError> {
    let providers = raw.providers.unwrap_or_default();
    Ok(Config {
        server: server(raw.server.unwrap_or_default(), env, file)?,
        storage: storage(raw.storage.unwrap_or_default(), env, file)?,
        log: log(raw.log.unwrap_or_default(), env, file)?,
        providers: ProvidersConfig {
            anthropic: provider(Builtin::Anthropic, providers.anthropic, env, file)?,
            openai: provider(Builtin::OpenAi, providers.openai, env, file)?,
            ollama: provider(Builtin::Ollama, providers.ollama, env, file)?,
        },
        aliases: models::aliases(raw.aliases, file)?,
        personas: personas::personas(raw.personas.unwrap_or_default(), file)?,
        source,
    })
}

/// The value of one setting and where it came from: the environment wins over the file.
pub(super) fn layer(
    env_value: Option<&String>,
    env_var: &'static str,
    file_value: Option<String>,
    file: &str,
    key: &[&str],
) -> Option<(String, Origin)> {
    match (env_value, file_value) {
        (Some(v), _) => Some((v.clone(), Origin::Env(env_var))),
        (None, Some(v)) => Some((v, Origin::file(file, &KeyPath::of(key)))),
        (None, None) => None,
    }
}

fn at(file: &str, key: &[&str]) -> Origin {
    Origin::file(file, &KeyPath::of(key))
}

fn server(raw: RawServer, env: &EnvOverrides, file: &str) -> Result<ServerConfig, ConfigError> {
    let bind = match layer(
        env.bind.as_ref(),
        env::MOXXY_BIND,
        raw.bind,
        file,
        &["server", "bind"],
    ) {
        None => defaults::BIND,
        Some((text, origin)) => parse_bind(&text).ok_or_else(|| {
            ConfigError::invalid(
                origin,
                "expected an address like 127.0.0.1:3000 (an IP address and a port); fix it",
            )
        })?,
    };
    if raw.body_limit_bytes == Some(0) {
        return Err(ConfigError::invalid(
            at(file, &["server", "body_limit_bytes"]),
            "expected a number of bytes greater than 0, like 4194304 (4 MiB)",
        ));
    }
    if raw.workers == Some(0) {
        return Err(ConfigError::invalid(
            at(file, &["server", "workers"]),
            "expected a number of worker threads greater than 0; remove it for one per core",
        ));
    }
    if raw.workers.is_some_and(|n| n > defaults::MAX_WORKERS) {
        return Err(ConfigError::invalid(
            at(file, &["server", "workers"]),
            format!(
                "expected at most {} worker threads; remove it for one per core",
                defaults::MAX_WORKERS
            ),
        ));
    }
    if raw.agent_queue_limit == Some(0) {
        return Err(ConfigError::invalid(
            at(file, &["server", "agent_queue_limit"]),
            "expected a number of turns greater than 0, like 64",
        ));
    }
    if raw
        .agent_queue_limit
        .is_some_and(|n| n > defaults::MAX_AGENT_QUEUE_LIMIT)
    {
        return Err(ConfigError::invalid(
            at(file, &["server", "agent_queue_limit"]),
            format!(
                "expected at most {} turns; lower it",
                defaults::MAX_AGENT_QUEUE_LIMIT
            ),
        ));
    }
    let body_timeout_s = raw.body_timeout_s.unwrap_or(defaults::BODY_TIMEOUT_S);
    if body_timeout_s == 0 || body_timeout_s > defaults::MAX_SERVER_TIMEOUT_S {
        return Err(ConfigError::invalid(
            at(file, &["server", "body_timeout_s"]),
            format!(
                "expected a number of seconds from 1 to {}, like 30",
                defaults::MAX_SERVER_TIMEOUT_S
            ),
        ));
    }
    let shutdown_grace_s = raw.shutdown_grace_s.unwrap_or(defaults::SHUTDOWN_GRACE_S);
    if shutdown_grace_s > defaults::MAX_SERVER_TIMEOUT_S {
        return Err(ConfigError::invalid(
            at(file, &["server", "shutdown_grace_s"]),
            format!(
                "expected a number of seconds from 0 to {}, like 10",
                defaults::MAX_SERVER_TIMEOUT_S
            ),
        ));
    }
    Ok(ServerConfig {
        bind,
        body_limit_bytes: raw.body_limit_bytes.unwrap_or(defaults::BODY_LIMIT_BYTES),
        workers: raw.workers,
        agent_queue_limit: raw.agent_queue_limit.unwrap_or(defaults::AGENT_QUEUE_LIMIT),
        body_timeout_s,
        shutdown_grace_s,
    })
}

/// An IP address and port; `localhost:PORT` is taken as `127.0.0.1:PORT` (no DNS at start-up).
fn parse_bind(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse() {
        return Some(addr);
    }
    let port = text.strip_prefix("localhost:")?.parse().ok()?;
    Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

fn storage(raw: RawStorage, env: &EnvOverrides, file: &str) -> Result<StorageConfig, ConfigError> {
    let key = ["storage", "path"];
    let path = match layer(
        env.data_dir.as_ref(),
        env::MOXXY_DATA_DIR,
        raw.path,
        file,
        &key,
    ) {
        None => PathBuf::from(defaults::STORAGE_PATH),
        Some((text, origin)) if text.trim().is_empty() => {
            return Err(ConfigError::invalid(
                origin,
                "expected a directory path, like \"./moxxy-data\"",
            ))
        }
        Some((text, _)) => PathBuf::from(text),
    };
    Ok(StorageConfig { path })
}

/// Level names a `log.level` of one word may be.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

fn log(raw: RawLog, env: &EnvOverrides, file: &str) -> Result<LogConfig, ConfigError> {
    let level = match (&env.log_level, raw.level) {
        (Some(filter), _) => check_filter(filter.trim()).map_err(|()| {
            ConfigError::invalid(
                Origin::Env(env::RUST_LOG),
                "expected a tracing filter like \"info\" or \"moxxy=debug,info\"; fix or unset it",
            )
        })?,
        (None, Some(level)) => {
            let level = level.trim();
            // One word must be a level: `tracing` would read "verbose" as a target name.
            let is_filter = level.contains(['=', ',']);
            let lower = level.to_ascii_lowercase();
            if !is_filter && !LEVELS.contains(&lower.as_str()) || check_filter(level).is_err() {
                return Err(ConfigError::invalid(
                    at(file, &["log", "level"]),
                    "expected one of off, error, warn, info, debug, trace, or a filter like \
                     \"moxxy=debug,info\"",
                ));
            }
            level.to_string()
        }
        (None, None) => defaults::LOG_LEVEL.to_string(),
    };
    let format = match raw.format.as_deref().map(str::trim) {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(_) => {
            return Err(ConfigError::invalid(
                at(file, &["log", "format"]),
                "expected \"text\" or \"json\"",
            ))
        }
    };
    Ok(LogConfig { level, format })
}

/// A filter `tracing_subscriber` accepts, returned as given.
fn check_filter(filter: &str) -> Result<String, ()> {
    tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map(|_| filter.to_string())
        .map_err(|_| ())
}
