//! Refuses keys in the config file. Runs on the raw TOML tree before typed parsing, so it covers
//! every value, including ones under keys Moxxy does not know (where a typed parse would stop at
//! "unknown key" and a key would sit in the file unnoticed).

use super::keypath::KeyPath;

/// Prefixes of provider keys and tokens: OpenAI and Anthropic (`sk-`, `sk-ant-`), xAI, Google,
/// Groq. Moxxy's own `mox_` tokens are matched separately (see [`looks_like_key`]).
const KEY_PREFIXES: [&str; 5] = ["sk-", "sk-ant-", "xai-", "AIza", "gsk_"];

/// Field names whose literal value is a secret, whatever it looks like.
const SECRET_FIELDS: [&str; 11] = [
    "api_key",
    "apikey",
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "access_token",
    "refresh_token",
    "client_secret",
    "bearer_token",
];

/// Name endings that mark a secret field (`anthropic_api_key`, `oauth_token`, `db_password`).
const SECRET_SUFFIXES: [&str; 4] = ["_api_key", "_secret", "_password", "_token"];

/// The paths, in document order of the tree walk, of every value (or key name) that looks like a
/// key. Empty when the file holds none.
pub fn find_keys(doc: &toml::Table) -> Vec<String> {
    let mut found = Vec::new();
    walk_table(doc, &KeyPath::root(), &mut found);
    found
}

fn walk_table(table: &toml::Table, at: &KeyPath, found: &mut Vec<String>) {
    for (name, value) in table {
        let path = at.key(name);
        if looks_like_key(name) {
            // The key name itself is the secret: name its table, not the key.
            found.push(if at.segments().is_empty() {
                "a key name at the top level".to_string()
            } else {
                format!("a key name in {at}")
            });
            continue;
        }
        if is_secret_field(name) && matches!(value, toml::Value::String(s) if !s.trim().is_empty())
        {
            found.push(path.to_string());
            continue;
        }
        walk_value(value, &path, found);
    }
}

fn walk_value(value: &toml::Value, at: &KeyPath, found: &mut Vec<String>) {
    match value {
        toml::Value::String(s) if looks_like_key(s) => found.push(at.to_string()),
        toml::Value::Table(t) => walk_table(t, at, found),
        toml::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_value(item, &at.index(i), found);
            }
        }
        _ => {}
    }
}

/// Whether a field of this name holds a secret (`api_key`, `Client-Secret`, `oauth_token`, …).
fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    SECRET_FIELDS.contains(&name.as_str()) || SECRET_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Whether text starts like a provider key or a `mox_` token, also after a `Bearer ` prefix.
pub fn looks_like_key(text: &str) -> bool {
    let text = text.trim();
    let text = match text.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => text.get(7..).unwrap_or(""),
        _ => text,
    }
    .trim_start();
    KEY_PREFIXES.iter().any(|p| text.starts_with(p)) || is_mox_token(text)
}

/// `mox_` followed by hex: one of Moxxy's own API tokens (a bare `mox_` name is not one).
fn is_mox_token(text: &str) -> bool {
    text.strip_prefix("mox_").is_some_and(|rest| {
        rest.len() >= 16 && rest.bytes().take(16).all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shapes_are_recognised() {
        for key in [
            "sk-proj-abc",
            "sk-ant-api03-x",
            "xai-123",
            "AIzaSyA",
            "gsk_abc",
            "  Bearer sk-abc",
            "mox_0123456789abcdef0123",
        ] {
            assert!(looks_like_key(key), "{key}");
        }
        for text in [
            "sonnet",
            "anthropic/claude-sonnet-5",
            "skeleton",
            "mox_helper",
            "",
        ] {
            assert!(!looks_like_key(text), "{text}");
        }
    }

    #[test]
    fn secret_field_names() {
        for name in [
            "api_key",
            "API-KEY",
            "token",
            "oauth_token",
            "client_secret",
            "key",
        ] {
            assert!(is_secret_field(name), "{name}");
        }
        for name in ["max_tokens", "oauth_token_url", "keys", "model"] {
            assert!(!is_secret_field(name), "{name}");
        }
    }
}
