//! Model names in config: alias targets (`PROVIDER/MODEL`) and the names personas use (an alias,
//! a bare model id, or `PROVIDER/MODEL`). Whether a model exists is routing's question, asked
//! at request time, since providers can be registered at run time.

use std::collections::BTreeMap;

use super::defaults;
use super::error::{ConfigError, Origin};
use super::keypath::KeyPath;
use super::personas::is_id;

/// The default aliases with the file's `[aliases]` added and overriding.
pub fn aliases(
    from_file: Option<BTreeMap<String, String>>,
    file: &str,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut aliases: BTreeMap<String, String> = defaults::ALIASES
        .iter()
        .map(|(name, target)| ((*name).to_string(), (*target).to_string()))
        .collect();
    for (name, target) in from_file.unwrap_or_default() {
        let origin = || Origin::file(file, &KeyPath::of(&["aliases", &name]));
        if !is_alias_name(&name) {
            return Err(ConfigError::invalid(
                origin(),
                "an alias name must be non-empty, without spaces or '/' (a '/' would read as \
                 PROVIDER/MODEL); rename it",
            ));
        }
        if !is_qualified(target.trim()) {
            return Err(ConfigError::invalid(
                origin(),
                "expected \"PROVIDER/MODEL\", like \"anthropic/claude-sonnet-5\", where PROVIDER \
                 is a provider id; fix the value",
            ));
        }
        aliases.insert(name, target.trim().to_string());
    }
    Ok(aliases)
}

/// `PROVIDER/MODEL`: a provider id, a slash, and a model id (which may hold more slashes, as
/// Ollama's `namespace/model` does).
pub fn is_qualified(name: &str) -> bool {
    name.split_once('/')
        .is_some_and(|(provider, model)| is_id(provider) && is_model_id(model))
}

/// A name a persona may use: an alias, a bare model id, or `PROVIDER/MODEL`.
pub fn is_model_name(name: &str) -> bool {
    if name.contains('/') {
        is_qualified(name)
    } else {
        is_model_id(name)
    }
}

/// A model id as upstreams write them: non-empty, no spaces or control characters.
fn is_model_id(model: &str) -> bool {
    !model.is_empty() && !model.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_alias_name(name: &str) -> bool {
    is_model_id(name) && !name.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names() {
        assert!(is_qualified("anthropic/claude-opus-5"));
        assert!(is_qualified("ollama/library/llama3:latest"));
        for bad in [
            "claude",
            "/x",
            "anthropic/",
            "Anthropic/x",
            "a b/c",
            "openai/gpt 4",
        ] {
            assert!(!is_qualified(bad), "{bad}");
        }
        assert!(is_model_name("sonnet"));
        assert!(!is_model_name(""));
        assert!(!is_model_name("no/"));
    }
}
