//! Configuration loading: defaults, the repository's config.toml, environment overrides, and
//! every refusal (each naming the key or variable, never the value).
#![allow(clippy::unwrap_used)]

mod defaults;
mod discovery;
mod environment;
mod refusals;
mod settings;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use moxxy::config::{self, Config, ConfigError};

/// An environment made of `pairs` only.
pub fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

pub fn no_env(_: &str) -> Option<String> {
    None
}

pub fn parse(text: &str) -> Result<Config, ConfigError> {
    config::from_toml_str(text, &no_env)
}

/// The error's message, checked not to contain `secret`.
pub fn refusal(text: &str, secret: &str) -> String {
    let err = parse(text).expect_err("config should be refused");
    let message = err.to_string();
    assert!(!message.contains(secret), "value leaked in: {message}");
    assert!(
        !format!("{err:?}").contains(secret),
        "value leaked in Debug: {err:?}"
    );
    message
}

pub fn repo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")
}
