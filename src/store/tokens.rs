//! `mox_` token records and the index from a token's hash to its id.
//!
//! Only the SHA-256 of a token is stored ([`crate::auth::token`] makes and checks them). The
//! `token_hashes` tree maps a hash to its token id so a presented token is found in one lookup;
//! a record and its index entry are written, and revoked, in one transaction.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use super::record::{decode, encode, Record, Table};
use super::{Store, StoreError};
use crate::auth::token::Scope;
use crate::time;

/// Set in the `meta` tree by the first token ever created: the unauthenticated bootstrap route
/// closes for good once a token has existed, even if every token is later revoked or expired
/// (reopening it would let any local user mint an admin token).
const EVER_CREATED: &[u8] = b"tokens:ever_created";

/// A token as stored: its hash, never its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub schema: u32,
    /// `tok_` + 16 hex characters.
    pub id: String,
    pub name: String,
    /// Hex SHA-256 of the whole token string.
    pub hash: String,
    /// `mox_` + the first 4 hex characters, so a user can tell tokens apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
    #[serde(default)]
    pub revoked_at: Option<String>,
}

impl TokenRecord {
    /// Neither revoked nor past its expiry at `now` (an unreadable expiry counts as expired).
    pub fn is_active(&self, now: SystemTime) -> bool {
        self.revoked_at.is_none()
            && match &self.expires_at {
                None => true,
                Some(at) => time::parse_rfc3339(at).is_some_and(|at| now < at),
            }
    }
}

impl Record for TokenRecord {
    const KIND: &'static str = "token";

    fn key(&self) -> &str {
        &self.id
    }

    fn schema(&self) -> u32 {
        self.schema
    }
}

/// The tokens tree and its hash index.
#[derive(Clone)]
pub struct TokenStore {
    table: Table<TokenRecord>,
    hashes: sled::Tree,
    meta: sled::Tree,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

impl TokenStore {
    pub(crate) fn new(
        store: Store,
        tokens: sled::Tree,
        hashes: sled::Tree,
        meta: sled::Tree,
    ) -> Self {
        TokenStore {
            table: Table::new(store, tokens),
            hashes,
            meta,
        }
    }

    /// Stores a new token and its hash index in one transaction, flushed.
    /// [`StoreError::Conflict`] if the id or the hash is taken.
    pub fn create(&self, record: &TokenRecord) -> Result<(), StoreError> {
        self.insert(record, false)
    }

    /// Stores the very first token: [`StoreError::Conflict`] ("a token already exists") if any
    /// token was ever created. Atomic, so two bootstrap requests cannot both succeed.
    pub fn create_first(&self, record: &TokenRecord) -> Result<(), StoreError> {
        if !self.is_empty()? {
            return Err(first_conflict());
        }
        self.insert(record, true)
    }

    fn insert(&self, record: &TokenRecord, only_first: bool) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        self.table.store().ensure_room(bytes.len())?;
        (self.table.tree(), &self.hashes, &self.meta)
            .transaction(|(tokens, hashes, meta)| {
                if only_first && meta.get(EVER_CREATED)?.is_some() {
                    return abort(first_conflict());
                }
                if tokens.get(record.id.as_bytes())?.is_some() {
                    return abort(StoreError::Conflict {
                        what: format!("token '{}'", record.id),
                    });
                }
                if hashes.get(record.hash.as_bytes())?.is_some() {
                    return abort(StoreError::Conflict {
                        what: "a token with this hash".to_string(),
                    });
                }
                tokens.insert(record.id.as_bytes(), bytes.as_slice())?;
                if record.revoked_at.is_none() {
                    hashes.insert(record.hash.as_bytes(), record.id.as_bytes())?;
                }
                meta.insert(EVER_CREATED, b"1".as_slice())?;
                Ok(())
            })
            .map_err(|err| self.tx_failed(err))?;
        self.table.store().flush()
    }

    /// Every token, oldest first.
    pub fn list(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut all = self.table.list()?;
        all.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        Ok(all)
    }

    /// One token.
    pub fn get(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.table.get(id)
    }

    /// The unrevoked token whose hash is `hash` (see [`crate::auth::token::hash`]). The caller
    /// still checks it with [`crate::auth::token::verify`] (expiry, constant-time comparison).
    pub fn find_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let id = self
            .hashes
            .get(hash.as_bytes())
            .map_err(|e| self.table.store().failed(e))?;
        let Some(id) = id else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        Ok(self
            .get(&id)?
            .filter(|rec| rec.revoked_at.is_none() && rec.hash == hash))
    }

    /// Revokes a token (sets `revoked_at`, drops its hash index so lookups fail at once),
    /// flushed. Answers whether the token exists; revoking twice keeps the first time.
    pub fn revoke(&self, id: &str) -> Result<bool, StoreError> {
        // A revocation may use the reserve: a full disk must not keep a token working.
        self.table.store().ensure_room_to_delete()?;
        let when = time::now_rfc3339();
        let found = (self.table.tree(), &self.hashes)
            .transaction(|(tokens, hashes)| {
                let Some(bytes) = tokens.get(id.as_bytes())? else {
                    return Ok(false);
                };
                let mut rec: TokenRecord = decode(id.as_bytes(), &bytes).or_else(abort)?;
                hashes.remove(rec.hash.as_bytes())?;
                if rec.revoked_at.is_none() {
                    rec.revoked_at = Some(when.clone());
                    let bytes = encode(&rec).or_else(abort)?;
                    tokens.insert(id.as_bytes(), bytes)?;
                }
                Ok(true)
            })
            .map_err(|err| self.tx_failed(err))?;
        if found {
            self.table.store().flush()?;
        }
        Ok(found)
    }

    /// Notes that a token was used at `when`. Not flushed (no response acknowledges it; sled
    /// writes it out within half a second). A compare-and-swap, so it never writes a revoked
    /// token back as usable; at most one write per token per second.
    pub fn touch(&self, id: &str, when: SystemTime) -> Result<(), StoreError> {
        let when = time::rfc3339(when);
        self.table.update_unflushed(id, |mut rec| {
            if rec.revoked_at.is_some() || rec.last_used_at.as_deref() == Some(when.as_str()) {
                return None;
            }
            rec.last_used_at = Some(when.clone());
            Some(rec)
        })?;
        Ok(())
    }

    /// Whether no token was ever created: while this holds, `POST /v1/tokens` accepts an
    /// unauthenticated request from loopback. Revoked and expired tokens still count, so the
    /// bootstrap route never reopens on a server that has had tokens.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        let marked = self
            .meta
            .get(EVER_CREATED)
            .map_err(|e| self.table.store().failed(e))?
            .is_some();
        Ok(!marked && self.table.is_empty())
    }

    /// How many tokens are usable at `now` (neither revoked nor expired).
    pub fn active_count(&self, now: SystemTime) -> Result<usize, StoreError> {
        Ok(self
            .table
            .list()?
            .iter()
            .filter(|rec| rec.is_active(now))
            .count())
    }

    fn tx_failed(&self, err: sled::transaction::TransactionError<StoreError>) -> StoreError {
        match err {
            sled::transaction::TransactionError::Storage(err) => self.table.store().failed(err),
            other => other.into(),
        }
    }
}

fn first_conflict() -> StoreError {
    StoreError::Conflict {
        what: "a token".to_string(),
    }
}

fn abort<T>(err: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(err))
}
