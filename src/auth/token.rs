//! `mox_` tokens: making them, hashing them, checking them, and what their scopes allow.
//!
//! Pure logic, no HTTP: the request extractor and the CLI build on it. A token is `mox_` + 64
//! lowercase hex characters (32 bytes from a CSPRNG). Only its SHA-256 is stored
//! ([`TokenRecord::hash`]); a presented token is hashed, looked up by hash, and the hashes are
//! compared in constant time.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::{TokenRecord, SCHEMA};
use crate::time;

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "mox_";
/// Hex characters after the prefix.
const TOKEN_HEX_LEN: usize = 64;
/// The latest expiry an RFC 3339 timestamp can carry (9999-12-31T23:59:59Z); longer lifetimes
/// are cut to it.
const LATEST_EXPIRY_SECS: u64 = 253_402_300_799;

/// What a token may do. `admin` allows everything; `chat` completions, model lists and agent
/// runs; `read` every GET of the management API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Admin,
    Chat,
    Read,
}

/// A scope name that is not one of `admin`, `chat`, `read`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope '{0}': expected admin, chat or read")]
pub struct UnknownScope(pub String);

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [Scope::Admin, Scope::Chat, Scope::Read];

    /// Parses `admin`, `chat` or `read`.
    pub fn parse(text: &str) -> Result<Scope, UnknownScope> {
        match text {
            "admin" => Ok(Scope::Admin),
            "chat" => Ok(Scope::Chat),
            "read" => Ok(Scope::Read),
            other => Err(UnknownScope(other.chars().take(32).collect())),
        }
    }

    /// The name as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Chat => "chat",
            Scope::Read => "read",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a token with `scopes` may do something that needs `needed`: a route needs `Read`
/// (a management GET), `Chat` (completions, models, agent runs) or `Admin` (everything else).
/// `admin` allows everything; `read` and `chat` allow only themselves.
pub fn allows(scopes: &[Scope], needed: Scope) -> bool {
    scopes
        .iter()
        .any(|&have| have == Scope::Admin || have == needed)
}

/// A token's text. Shown to the user once, at creation; its `Debug` prints `mox_****` and it
/// has no `Display` or `Serialize`.
pub struct TokenSecret(SecretString);

impl TokenSecret {
    /// The token itself: to print once for the user, or to send in an `Authorization` header.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mox_****")
    }
}

/// A freshly made token: the text to give the user, and the record to store (hash only).
#[derive(Debug)]
pub struct NewToken {
    pub secret: TokenSecret,
    pub record: TokenRecord,
}

/// Makes a token named `name` with `scopes`, created at `now`, expiring `expires_in` later
/// (cut to year 9999) or never.
pub fn generate(
    name: impl Into<String>,
    scopes: Vec<Scope>,
    expires_in: Option<Duration>,
    now: SystemTime,
) -> NewToken {
    let mut rng = rand::rng();
    let mut secret_bytes = [0u8; TOKEN_HEX_LEN / 2];
    rng.fill_bytes(&mut secret_bytes);
    let mut id_bytes = [0u8; 8];
    rng.fill_bytes(&mut id_bytes);

    let mut hex_part = hex::encode(secret_bytes);
    secret_bytes.zeroize();
    let prefix = format!("{TOKEN_PREFIX}{}", hex_part.get(..4).unwrap_or_default());
    let text = format!("{TOKEN_PREFIX}{hex_part}");
    hex_part.zeroize();

    let latest = UNIX_EPOCH + Duration::from_secs(LATEST_EXPIRY_SECS);
    let expires_at = expires_in.map(|d| {
        let at = now.checked_add(d).unwrap_or(latest).min(latest);
        time::rfc3339(at)
    });
    let record = TokenRecord {
        schema: SCHEMA,
        id: format!("tok_{}", hex::encode(id_bytes)),
        name: name.into(),
        hash: hash(&text),
        prefix,
        scopes,
        created_at: time::rfc3339(now),
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    NewToken {
        secret: TokenSecret(SecretString::from(text)),
        record,
    }
}

/// Hex SHA-256 of a token's whole text: what is stored and looked up.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `text` has a token's form (`mox_` + 64 lowercase hex), checked before any lookup so
/// junk never reaches the store.
pub fn looks_like_token(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX).is_some_and(|hex| {
        hex.len() == TOKEN_HEX_LEN && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Why a presented token was refused. The client always gets the same 401; this is for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("token does not match the record")]
    Mismatch,
    #[error("token revoked")]
    Revoked,
    #[error("token expired")]
    Expired,
}

/// Checks a presented token against the record found for it at `now`: the hashes must match
/// (compared in constant time), the token must not be revoked, and not expired (an unreadable
/// expiry counts as expired).
pub fn verify(
    presented: &str,
    record: &TokenRecord,
    now: SystemTime,
) -> Result<(), TokenRejection> {
    verify_hash(&hash(presented), record, now)
}

/// [`verify`] for a token already hashed with [`hash`] (hashing it once per request is enough).
pub fn verify_hash(
    presented_hash: &str,
    record: &TokenRecord,
    now: SystemTime,
) -> Result<(), TokenRejection> {
    if !bool::from(presented_hash.as_bytes().ct_eq(record.hash.as_bytes())) {
        return Err(TokenRejection::Mismatch);
    }
    if record.revoked_at.is_some() {
        return Err(TokenRejection::Revoked);
    }
    if !record.is_active(now) {
        return Err(TokenRejection::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Ok(scope));
        }
        assert!(Scope::parse("root").is_err());
    }
}
