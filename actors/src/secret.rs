//! Keys in a type that cannot be printed by accident.
//!
//! [`ApiKey`] wraps `secrecy::SecretString`: its `Debug` prints `ApiKey(*****)`, it has no
//! `Display` and no `Serialize`, and the only way to read it is [`ApiKey::expose`], which is called
//! where a header is built and nowhere else.

use secrecy::{ExposeSecret, SecretString};

/// A provider's API key or access token.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(SecretString::from(key.into()))
    }

    /// The key itself. Call only to put it into an upstream request header.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The last four characters for display, or `None` for a key shorter than twelve characters
    /// (where four characters would give most of it away).
    pub fn last4(&self) -> Option<String> {
        let key = self.expose();
        let chars: Vec<char> = key.chars().collect();
        (chars.len() >= 12).then(|| chars[chars.len() - 4..].iter().collect())
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(*****)")
    }
}

impl PartialEq for ApiKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

/// Replaces every occurrence of `key` in `text` with `*****`, so an upstream error that echoes
/// the key (OpenAI's "Incorrect API key provided: sk-…") cannot carry it to a client or a log.
/// Also masks the key's longer prefixes and suffixes that upstreams print half-hidden.
pub fn redact(text: &str, key: Option<&ApiKey>) -> String {
    let Some(key) = key else {
        return text.to_string();
    };
    let secret = key.expose();
    if secret.len() < 8 {
        return text.to_string();
    }
    let mut out = text.replace(secret, "*****");
    // Upstreams echo keys in part ("sk-abc…wxyz"); any run of at least 8 characters of the key
    // is masked too.
    let bytes = secret.as_bytes();
    for window in (8..bytes.len()).rev() {
        for start in 0..=bytes.len() - window {
            if let Ok(piece) = std::str::from_utf8(&bytes[start..start + window]) {
                if out.contains(piece) {
                    out = out.replace(piece, "*****");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("sk-test-abcdefghijklmnop");
        let printed = format!("{key:?}");
        assert!(!printed.contains("abcdefgh"), "{printed}");
    }

    #[test]
    fn last4_hides_short_keys() {
        assert_eq!(
            ApiKey::new("sk-test-abcdefghijklmnop").last4().as_deref(),
            Some("mnop")
        );
        assert_eq!(ApiKey::new("short-key").last4(), None);
    }

    #[test]
    fn redact_masks_whole_and_partial_echoes() {
        let key = ApiKey::new("sk-test-abcdefghijklmnop");
        let msg =
            "Incorrect API key provided: sk-test-abcdefghijklmnop. Also sk-test-abcd****mnop.";
        let out = redact(msg, Some(&key));
        assert!(!out.contains("abcdefghijklmnop"), "{out}");
        assert!(!out.contains("sk-test-abcd"), "{out}");
        assert!(
            out.starts_with("Incorrect API key provided: *****"),
            "{out}"
        );
    }
}
