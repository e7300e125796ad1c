//! The built-in providers' settings: addresses from the environment, else the file, else the
//! defaults; limits and model lists checked.

use super::env::{self, EnvOverrides};
use super::error::{ConfigError, Origin};
use super::file::RawProvider;
use super::keypath::KeyPath;
use super::urls::{check_url, is_insecure, strip_v1};
use super::validate::layer;
use super::{defaults, BuiltinProviderConfig};

/// The longest discovery interval: a day. Longer ones gain nothing, and an unbounded one would
/// overflow the timer that schedules the next probe.
const MAX_DISCOVERY_INTERVAL_S: u64 = 86_400;

/// The built-in providers, which differ in defaults and in what the environment sets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Builtin {
    Anthropic,
    OpenAi,
    Ollama,
}

impl Builtin {
    fn id(self) -> &'static str {
        match self {
            Builtin::Anthropic => "anthropic",
            Builtin::OpenAi => "openai",
            Builtin::Ollama => "ollama",
        }
    }

    fn defaults(self) -> BuiltinProviderConfig {
        match self {
            Builtin::Anthropic => BuiltinProviderConfig::anthropic(),
            Builtin::OpenAi => BuiltinProviderConfig::openai(),
            Builtin::Ollama => BuiltinProviderConfig::ollama(),
        }
    }

    /// The variable that overrides `base_url`, and its value.
    fn base_url_env(self, env: &EnvOverrides) -> (&'static str, Option<&String>) {
        match self {
            Builtin::Anthropic => (env::ANTHROPIC_BASE_URL, env.anthropic_base_url.as_ref()),
            Builtin::OpenAi => (env::OPENAI_BASE_URL, env.openai_base_url.as_ref()),
            Builtin::Ollama => (env::OLLAMA_HOST, env.ollama_base_url.as_ref()),
        }
    }
}

/// One built-in provider's checked settings.
pub(super) fn provider(
    which: Builtin,
    raw: Option<RawProvider>,
    env: &EnvOverrides,
    file: &str,
) -> Result<BuiltinProviderConfig, ConfigError> {
    let id = which.id();
    let raw = raw.unwrap_or_default();
    let defaults = which.defaults();
    let key = |name: &str| KeyPath::of(&["providers", id, name]);
    let allow_insecure_http = match (which, raw.allow_insecure_http) {
        (Builtin::Ollama, Some(_)) => {
            return Err(ConfigError::invalid(
                Origin::file(file, &key("allow_insecure_http")),
                "Ollama takes no key, so plain http is always allowed there; remove this key",
            ))
        }
        (_, allow) => allow.unwrap_or(false),
    };
    let discovery_interval_s = match (which, raw.discovery_interval_s) {
        (Builtin::Ollama, Some(every)) if every > MAX_DISCOVERY_INTERVAL_S => {
            return Err(ConfigError::invalid(
                Origin::file(file, &key("discovery_interval_s")),
                format!(
                    "expected at most {MAX_DISCOVERY_INTERVAL_S} seconds (one day), \
                     or 0 to probe only at start; lower it"
                ),
            ))
        }
        (Builtin::Ollama, value) => value.unwrap_or(defaults.discovery_interval_s),
        (_, Some(_)) => {
            return Err(ConfigError::invalid(
                Origin::file(file, &key("discovery_interval_s")),
                "only the ollama provider discovers its models; remove this key",
            ))
        }
        (_, None) => defaults.discovery_interval_s,
    };
    let url = |value: Option<(String, Origin)>, default: Option<String>| {
        let Some((text, origin)) = value else {
            return Ok(default);
        };
        let checked = check_url(&text).map_err(|problem| {
            let problem = match origin {
                Origin::Env(env::OLLAMA_HOST) => {
                    "expected a host like 127.0.0.1:11434 or a URL like http://host:11434; fix it"
                        .to_string()
                }
                _ => problem,
            };
            ConfigError::invalid(origin.clone(), problem)
        })?;
        if which != Builtin::Ollama && !allow_insecure_http && is_insecure(&checked) {
            return Err(ConfigError::invalid(
                origin,
                format!(
                    "plain http to a host other than loopback would send the key in clear; use \
                     https, or set providers.{id}.allow_insecure_http = true in the config file"
                ),
            ));
        }
        Ok(Some(checked))
    };

    let (var, env_base) = which.base_url_env(env);
    let base = layer(
        env_base,
        var,
        raw.base_url,
        file,
        &["providers", id, "base_url"],
    );
    let base_url = url(base, Some(defaults.base_url))?.unwrap_or_default();
    let base_url = if which == Builtin::Anthropic {
        strip_v1(base_url)
    } else {
        base_url
    };

    let oauth_token_url = if which == Builtin::Anthropic {
        let var = env::ANTHROPIC_OAUTH_TOKEN_URL;
        let value = layer(
            env.anthropic_oauth_token_url.as_ref(),
            var,
            raw.oauth_token_url,
            file,
            &["providers", id, "oauth_token_url"],
        );
        url(value, defaults.oauth_token_url)?
    } else if raw.oauth_token_url.is_some() {
        return Err(ConfigError::invalid(
            Origin::file(file, &key("oauth_token_url")),
            "only the anthropic provider uses OAuth; remove this key",
        ));
    } else {
        None
    };

    let max_retries = raw.max_retries.unwrap_or(defaults.max_retries);
    if max_retries > defaults::MAX_RETRIES_LIMIT {
        return Err(ConfigError::invalid(
            Origin::file(file, &key("max_retries")),
            format!(
                "expected at most {} retries; lower it",
                defaults::MAX_RETRIES_LIMIT
            ),
        ));
    }
    if raw.timeout_ms == Some(0) {
        return Err(ConfigError::invalid(
            Origin::file(file, &key("timeout_ms")),
            "expected a timeout in milliseconds greater than 0, like 600000",
        ));
    }
    if let Some(limits) = &raw.rate_limit {
        let zero = [
            ("requests_per_minute", limits.requests_per_minute),
            ("tokens_per_minute", limits.tokens_per_minute),
        ]
        .into_iter()
        .find(|(_, v)| *v == Some(0));
        if let Some((name, _)) = zero {
            return Err(ConfigError::invalid(
                Origin::file(file, &key("rate_limit").key(name)),
                "expected a limit greater than 0; remove it for no limit",
            ));
        }
    }
    if let Some(models) = &raw.models {
        check_models(models, &key("models"), file)?;
    }
    Ok(BuiltinProviderConfig {
        base_url,
        oauth_token_url,
        max_retries,
        timeout_ms: raw.timeout_ms.unwrap_or(defaults.timeout_ms),
        rate_limit: raw.rate_limit,
        models: raw
            .models
            .map(|list| list.into_iter().map(|m| m.trim().to_string()).collect()),
        allow_insecure_http,
        discovery_interval_s,
    })
}

/// Model ids: non-empty, no spaces, each once.
fn check_models(models: &[String], key: &KeyPath, file: &str) -> Result<(), ConfigError> {
    for (i, model) in models.iter().enumerate() {
        let model = model.trim();
        if model.is_empty() || model.contains(char::is_whitespace) {
            return Err(ConfigError::invalid(
                Origin::file(file, &key.index(i)),
                "expected a model id without spaces, like \"gpt-4.1\"",
            ));
        }
        if models.iter().take(i).any(|m| m.trim() == model) {
            return Err(ConfigError::invalid(
                Origin::file(file, &key.index(i)),
                "this model is listed twice; remove one",
            ));
        }
    }
    Ok(())
}
