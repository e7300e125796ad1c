//! Anthropic OAuth sessions on the server side: the session kept encrypted in the vault, the
//! [`CredentialSink`] the engine persists refreshed pairs through, and the parsing of what users
//! give us (`expires_at` as RFC 3339 or epoch milliseconds, Claude's credentials file).
//!
//! The engine refreshes the tokens (`moxxy_actors::provider::oauth`); this module only stores
//! them and builds the session from the stored pair at start.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use moxxy_actors::provider::{CredentialSink, Credentials, OAuthClient, OAuthSession, OAuthTokens};
use moxxy_actors::ApiKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::VaultEntryRecord;
use crate::vault::{Vault, VaultError};

/// The public OAuth client id of Claude Code (PROTOCOLS.md §1.2), named in every refresh grant.
pub const CLAUDE_CODE_CLIENT_ID: &str = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";

/// The token endpoint used if the configuration names none (it always does for `anthropic`:
/// `providers.anthropic.oauth_token_url`, `ANTHROPIC_OAUTH_TOKEN_URL`, or its default).
pub const FALLBACK_TOKEN_URL: &str = "https://console.anthropic.com/v1/oauth/token";

/// The vault entry that holds provider `id`'s OAuth session.
pub fn vault_entry(id: &str) -> String {
    format!("oauth:{id}")
}

/// A session as kept in the vault: JSON, encrypted whole. `expires_at_ms` comes last so the
/// vault listing's `last4` shows digits of the expiry, never a token.
#[derive(Serialize, Deserialize)]
struct StoredSession {
    access_token: String,
    refresh_token: String,
    expires_at_ms: u64,
}

/// Stores `tokens` as provider `id`'s session (flushed before it returns).
pub fn store(vault: &Vault, id: &str, tokens: &OAuthTokens) -> Result<(), VaultError> {
    vault.put(&vault_entry(id), &session_text(tokens))
}

/// `tokens` sealed as provider `id`'s session, not yet stored: for a write that stores it in one
/// transaction with the provider's record (`PUT /v1/providers/anthropic/oauth`).
pub fn seal(vault: &Vault, id: &str, tokens: &OAuthTokens) -> Result<VaultEntryRecord, VaultError> {
    vault.seal_entry(&vault_entry(id), &session_text(tokens))
}

/// The session as the vault keeps it: JSON, inside an [`ApiKey`] so it cannot be printed.
fn session_text(tokens: &OAuthTokens) -> ApiKey {
    let stored = StoredSession {
        access_token: tokens.access_token.expose().to_string(),
        refresh_token: tokens.refresh_token.expose().to_string(),
        expires_at_ms: epoch_ms(tokens.expires_at),
    };
    ApiKey::new(serde_json::to_string(&stored).unwrap_or_default())
}

/// Provider `id`'s stored session, if there is one that reads.
pub fn load(vault: &Vault, id: &str) -> Result<Option<OAuthTokens>, VaultError> {
    let Some(value) = vault.get(&vault_entry(id))? else {
        return Ok(None);
    };
    let Ok(stored) = serde_json::from_str::<StoredSession>(value.expose()) else {
        tracing::error!(provider = id, "the stored OAuth session is not readable - import it again with moxxy auth import FILE");
        return Ok(None);
    };
    Ok(Some(OAuthTokens {
        access_token: ApiKey::new(stored.access_token),
        refresh_token: ApiKey::new(stored.refresh_token),
        expires_at: UNIX_EPOCH + Duration::from_millis(stored.expires_at_ms),
    }))
}

/// The engine credentials for a stored session: refreshed at `token_url`, persisted to `vault`.
pub fn credentials(vault: &Vault, token_url: &str, tokens: OAuthTokens) -> Credentials {
    let client = OAuthClient {
        token_url: token_url.to_string(),
        client_id: CLAUDE_CODE_CLIENT_ID.to_string(),
    };
    let sink: Arc<dyn CredentialSink> = Arc::new(VaultSink {
        vault: vault.clone(),
    });
    Credentials::OAuth(OAuthSession::new(tokens, client, Some(sink)))
}

/// Keeps refreshed pairs in the vault, so a rotated refresh token survives a crash or restart.
pub struct VaultSink {
    vault: Vault,
}

impl CredentialSink for VaultSink {
    fn persist(&self, provider: &str, tokens: &OAuthTokens) -> Result<(), String> {
        store(&self.vault, provider, tokens).map_err(|e| e.to_string())
    }
}

/// Why a given expiry cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("expires_at: give an RFC 3339 time (2026-11-25T18:00:00Z) or epoch milliseconds (1795629600000)")]
pub struct BadExpiry;

/// Reads `expires_at` as RFC 3339 text or epoch milliseconds (a number or digits, the form of
/// Claude's `claudeAiOauth.expiresAt`).
pub fn parse_expires_at(value: &Value) -> Result<SystemTime, BadExpiry> {
    let millis = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        Value::String(s) => return crate::time::parse_rfc3339(s.trim()).ok_or(BadExpiry),
        _ => None,
    };
    millis
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
        .ok_or(BadExpiry)
}

fn epoch_ms(t: SystemTime) -> u64 {
    u64::try_from(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expiry_forms() {
        let ms = UNIX_EPOCH + Duration::from_millis(1_795_629_600_000);
        assert_eq!(parse_expires_at(&json!(1_795_629_600_000u64)), Ok(ms));
        assert_eq!(parse_expires_at(&json!("1795629600000")), Ok(ms));
        assert_eq!(
            parse_expires_at(&json!("2026-11-25T18:00:00Z")),
            Ok(UNIX_EPOCH + Duration::from_secs(1_795_629_600))
        );
        assert_eq!(parse_expires_at(&json!("tomorrow")), Err(BadExpiry));
        assert_eq!(parse_expires_at(&json!(-5)), Err(BadExpiry));
        assert_eq!(parse_expires_at(&json!(null)), Err(BadExpiry));
    }
}
