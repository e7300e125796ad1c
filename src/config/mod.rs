//! Configuration: built-in defaults, then `config.toml`, then the environment (API.md, "Running
//! it"), checked before anything starts.
//!
//! Loading runs in steps, one module each:
//! 1. [`file`]: TOML syntax (errors with line and column); a scan of the raw tree that refuses
//!    anything that looks like a key ([`secrets`]), even under unknown keys; the typed parse,
//!    where unknown keys and wrong types are errors naming the key path (`serde_path_to_error`).
//! 2. [`env`]: the variables that win over the file (`MOXXY_BIND`, `OLLAMA_HOST`, `RUST_LOG`, …).
//! 3. [`validate`] (with [`providers`], [`models`], [`personas`]): each setting from the
//!    environment, else the file, else the default ([`defaults`]), checked where it came from,
//!    into the [`Config`] the server uses.
//!
//! Errors never contain a value from the file or the environment, only where it is and what is
//! expected: a value in the wrong place may be a key. Keys themselves are not configuration:
//! `ANTHROPIC_API_KEY`, `OPENAI_API_KEY` and `MOXXY_MASTER_KEY` are read by the code that needs
//! them and never stored here.
//!
//! Decisions: `ANTHROPIC_BASE_URL` (and `providers.anthropic.base_url`) is the address without
//! `/v1`, as the Anthropic SDKs read it; a trailing `/v1` given by habit is dropped, as is any
//! trailing `/`. A blank environment variable counts as unset.

mod defaults;
mod env;
mod error;
mod expect;
mod file;
mod keypath;
mod models;
pub mod personas;
mod providers;
mod secrets;
mod types;
mod urls;
mod validate;

use std::path::{Path, PathBuf};

pub use self::defaults::{BODY_TIMEOUT_S, SHUTDOWN_GRACE_S};
pub use self::env::{
    ANTHROPIC_BASE_URL, ANTHROPIC_OAUTH_TOKEN_URL, MOXXY_BIND, MOXXY_CONFIG, MOXXY_DATA_DIR,
    OLLAMA_HOST, OPENAI_BASE_URL, RUST_LOG,
};
pub use self::error::{ConfigError, NamedBy, Origin};
pub use self::types::{
    BuiltinProviderConfig, Config, ConfigSource, LogConfig, LogFormat, PersonaConfig,
    ProvidersConfig, ServerConfig, StorageConfig,
};

/// The file read when neither `--config` nor `MOXXY_CONFIG` names one, if it exists.
pub const DEFAULT_FILE: &str = "config.toml";

/// How errors name text given to [`from_toml_str`].
const INLINE_LABEL: &str = "inline config";

/// Loads the configuration: `path` if given (an error if it is missing), else `$MOXXY_CONFIG`
/// (an error if missing), else `./config.toml` if present, else the built-in defaults; then the
/// environment's overrides. `env` reads environment variables (the process's, or a map in tests).
pub fn load(
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let named = match path {
        Some(path) => Some((path.to_path_buf(), NamedBy::CommandLine)),
        None => env::config_path(env).map(|p| (PathBuf::from(p), NamedBy::EnvVar)),
    };
    let found = match named {
        Some((path, named_by)) => match read(&path) {
            Ok(text) => Some((path, text)),
            Err(ReadError::Missing) => {
                return Err(ConfigError::NotFound {
                    file: path.display().to_string(),
                    named_by,
                })
            }
            Err(ReadError::Other(e)) => return Err(e),
        },
        None => match read(Path::new(DEFAULT_FILE)) {
            Ok(text) => Some((PathBuf::from(DEFAULT_FILE), text)),
            Err(ReadError::Missing) => None,
            Err(ReadError::Other(e)) => return Err(e),
        },
    };
    let overrides = env::EnvOverrides::read(env);
    match found {
        Some((path, text)) => {
            let label = path.display().to_string();
            let raw = file::parse(&text, &label)?;
            validate::build(raw, &overrides, &label, ConfigSource::File(path))
        }
        None => validate::build(
            file::RawConfig::default(),
            &overrides,
            DEFAULT_FILE,
            ConfigSource::Defaults,
        ),
    }
}

/// Loads configuration from TOML text, then the environment's overrides, as [`load`] does with
/// a file. For tests and tools; errors name the text `inline config`.
pub fn from_toml_str(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let raw = file::parse(text, INLINE_LABEL)?;
    validate::build(
        raw,
        &env::EnvOverrides::read(env),
        INLINE_LABEL,
        ConfigSource::Inline,
    )
}

/// Why a config file could not be read: absence is handled apart, since `./config.toml` may be
/// absent while a named file must exist.
enum ReadError {
    Missing,
    Other(ConfigError),
}

/// The file's text.
fn read(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Other(ConfigError::Unreadable {
            file: path.display().to_string(),
            reason: e.to_string(),
        }),
    })
}
