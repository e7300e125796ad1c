//! Reading `config.toml`: TOML syntax, then the key scan on the raw tree, then the typed parse
//! into [`RawConfig`] (every key optional, unknown keys refused), with errors that name the key
//! path and never quote a value.

use std::collections::BTreeMap;

use moxxy_actors::ratelimit::RateLimitConfig;
use serde::Deserialize;

use super::error::ConfigError;
use super::expect::expected;
use super::keypath::{describe_kind, KeyPath, Segment};
use super::personas::is_id;
use super::secrets::find_keys;

/// The file as written: what it sets, nothing filled in yet.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub server: Option<RawServer>,
    pub storage: Option<RawStorage>,
    pub log: Option<RawLog>,
    pub providers: Option<RawProviders>,
    pub aliases: Option<BTreeMap<String, String>>,
    pub personas: Option<Vec<RawPersona>>,
}

/// `[server]`. `bind` is a string here so that a bad address gets our message, not serde's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub bind: Option<String>,
    pub body_limit_bytes: Option<usize>,
    pub workers: Option<usize>,
    pub agent_queue_limit: Option<usize>,
    pub body_timeout_s: Option<u64>,
    pub shutdown_grace_s: Option<u64>,
}

/// `[storage]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub path: Option<String>,
}

/// `[log]`. `format` is a string here for the same reason as `bind`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<String>,
    pub format: Option<String>,
}

/// `[providers]`: only the built-ins; custom providers are registered at run time.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProviders {
    pub anthropic: Option<RawProvider>,
    pub openai: Option<RawProvider>,
    pub ollama: Option<RawProvider>,
}

/// `[providers.<id>]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub base_url: Option<String>,
    pub oauth_token_url: Option<String>,
    pub max_retries: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub rate_limit: Option<RateLimitConfig>,
    pub models: Option<Vec<String>>,
    pub allow_insecure_http: Option<bool>,
    pub discovery_interval_s: Option<u64>,
}

/// One `[[personas]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPersona {
    pub name: String,
    pub model: String,
    pub system: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub stop: Option<Vec<String>>,
}

/// Parses the text of a config file; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<RawConfig, ConfigError> {
    let doc: toml::Table = text.parse().map_err(|e| syntax_error(&e, text, file))?;
    let keys = find_keys(&doc);
    if !keys.is_empty() {
        return Err(ConfigError::KeyInFile {
            file: file.to_string(),
            keys,
        });
    }
    let de = toml::Deserializer::parse(text).map_err(|e| syntax_error(&e, text, file))?;
    serde_path_to_error::deserialize(de).map_err(|e| typed_error(&e, &doc, file))
}

/// A syntax error with its line and column, and the parser's description (which names what
/// was expected, never the text found).
fn syntax_error(err: &toml::de::Error, text: &str, file: &str) -> ConfigError {
    let offset = err.span().map_or(0, |span| span.start);
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    ConfigError::Syntax {
        file: file.to_string(),
        line,
        column,
        message: err.message().to_string(),
    }
}

/// Turns a typed-parse error into ours. serde's messages quote values (`invalid type: string
/// "…"`), so only its shape is used: the message is rebuilt from the path, the key's expected
/// value and the kind of value found.
fn typed_error(
    err: &serde_path_to_error::Error<toml::de::Error>,
    doc: &toml::Table,
    file: &str,
) -> ConfigError {
    let path = to_key_path(err.path());
    let message = err.inner().message();
    if let Some(field) = quoted_after(message, "unknown field ") {
        let (parent, key) = split_field(&path, field);
        return ConfigError::UnknownKey {
            file: file.to_string(),
            key: label(&key, doc),
            allowed: backticked(message.split_once("expected").map_or("", |(_, rest)| rest)),
            hint: unknown_key_hint(&parent),
        };
    }
    if let Some(field) = quoted_after(message, "missing field ") {
        let (_, key) = split_field(&path, field);
        return ConfigError::MissingKey {
            file: file.to_string(),
            key: label(&key, doc),
            expected: expected(&key).unwrap_or("a value").to_string(),
        };
    }
    let found = path.lookup(doc);
    let got = match found {
        Some(toml::Value::Integer(_)) if message.starts_with("invalid value") => {
            "a number out of range"
        }
        Some(value) => describe_kind(value),
        None => "something else",
    };
    let fallback = message
        .rsplit_once(", expected ")
        .map_or("another kind of value", |(_, e)| e);
    ConfigError::WrongType {
        file: file.to_string(),
        key: label(&path, doc),
        expected: expected(&path).unwrap_or(fallback).to_string(),
        got: got.to_string(),
    }
}

fn to_key_path(path: &serde_path_to_error::Path) -> KeyPath {
    path.iter().fold(KeyPath::root(), |at, seg| match seg {
        serde_path_to_error::Segment::Seq { index } => at.index(*index),
        serde_path_to_error::Segment::Map { key } => at.key(key),
        serde_path_to_error::Segment::Enum { variant } => at.key(variant),
        serde_path_to_error::Segment::Unknown => at,
    })
}

/// The table holding `field` and the field's own path: serde reports an unknown or missing
/// field at its table, or at the field itself, depending on the deserializer.
fn split_field(path: &KeyPath, field: &str) -> (KeyPath, KeyPath) {
    match path.segments().split_last() {
        Some((Segment::Key(last), _)) if last == field => (path.parent(), path.clone()),
        _ => (path.clone(), path.key(field)),
    }
}

/// The text between the backticks that follow `prefix` at the start of `message`.
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// Every backticked name in `text` (serde's list of allowed fields).
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Advice for an unknown key, by the table it is in.
fn unknown_key_hint(parent: &KeyPath) -> Option<&'static str> {
    match parent.segments() {
        [Segment::Key(k)] if k == "providers" => Some(
            "only the built-in providers are configured here; register others at run time with \
             POST /v1/providers or `moxxy providers add`",
        ),
        [Segment::Key(p), Segment::Key(_)] if p == "providers" => {
            Some("keys come from ANTHROPIC_API_KEY / OPENAI_API_KEY or the vault, not from here")
        }
        _ => None,
    }
}

/// The path as an error shows it, with the persona's name when the path is inside one.
pub fn label(path: &KeyPath, doc: &toml::Table) -> String {
    match path.segments() {
        [Segment::Key(top), Segment::Index(i), ..] if top == "personas" => {
            let name = KeyPath::of(&["personas"]).index(*i).key("name").lookup(doc);
            match name.and_then(toml::Value::as_str) {
                Some(name) if is_id(name) => format!("{path} (persona '{name}')"),
                _ => path.to_string(),
            }
        }
        _ => path.to_string(),
    }
}
