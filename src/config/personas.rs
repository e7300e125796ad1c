//! `[[personas]]`: the agents started at boot. Each is checked here so a typo stops start-up
//! with the persona named, rather than surfacing as a failed request later.

use std::collections::BTreeMap;

use super::error::{ConfigError, Origin};
use super::file::RawPersona;
use super::keypath::KeyPath;
use super::models::is_model_name;
use super::PersonaConfig;

/// The longest id: `[a-z0-9][a-z0-9_-]{0,62}`.
const MAX_ID_LEN: usize = 63;

/// Whether `s` is an id (of a provider, an agent): `[a-z0-9][a-z0-9_-]{0,62}`, safe in URLs and
/// paths as it is.
pub fn is_id(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok
        && s.len() <= MAX_ID_LEN
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Checks every persona; names must be unique.
pub fn personas(raw: Vec<RawPersona>, file: &str) -> Result<Vec<PersonaConfig>, ConfigError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut checked = Vec::with_capacity(raw.len());
    for (i, persona) in raw.into_iter().enumerate() {
        let key = KeyPath::of(&["personas"]).index(i);
        let name = persona.name.trim().to_string();
        if !is_id(&name) {
            return Err(ConfigError::invalid(
                Origin::file(file, &key.key("name")),
                "expected an agent id: 1 to 63 lowercase letters, digits, '_' or '-', starting \
                 with a letter or digit, like \"researcher\"; rename the persona",
            ));
        }
        // The name is a valid id from here on, so errors may print it.
        let refuse = |field: KeyPath, problem: String| {
            let origin = Origin::File {
                file: file.to_string(),
                key: format!("{field} (persona '{name}')"),
            };
            Err(ConfigError::invalid(origin, problem))
        };
        if let Some(first) = seen.insert(name.clone(), i) {
            return refuse(
                key.key("name"),
                format!(
                    "a persona named '{name}' is already defined at personas[{first}]; names \
                     must be unique, rename one"
                ),
            );
        }
        let model = persona.model.trim().to_string();
        if !is_model_name(&model) {
            return refuse(
                key.key("model"),
                "expected a model name: an alias like \"sonnet\", a model id, or \
                 \"PROVIDER/MODEL\" like \"anthropic/claude-sonnet-5\""
                    .to_string(),
            );
        }
        if persona
            .temperature
            .is_some_and(|t| !(0.0..=2.0).contains(&t))
        {
            return refuse(
                key.key("temperature"),
                "expected a temperature from 0 to 2 (most models take 0 to 1); fix the value"
                    .to_string(),
            );
        }
        if persona.max_tokens == Some(0) {
            return refuse(
                key.key("max_tokens"),
                "expected a number of tokens greater than 0, like 2048".to_string(),
            );
        }
        let empty_stop = persona
            .stop
            .as_ref()
            .and_then(|s| s.iter().position(String::is_empty));
        if let Some(n) = empty_stop {
            return refuse(
                key.key("stop").index(n),
                "a stop sequence must not be empty; remove it".to_string(),
            );
        }
        checked.push(PersonaConfig {
            name,
            model,
            system: persona.system,
            temperature: persona.temperature,
            max_tokens: persona.max_tokens,
            stop: persona.stop,
        });
    }
    Ok(checked)
}
