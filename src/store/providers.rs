//! Provider registrations: custom OpenAI-compatible services, and the stored overrides of the
//! built-ins (their key source, base URL, limits).

use std::collections::BTreeMap;

use moxxy_actors::ratelimit::RateLimitConfig;
use serde::{Deserialize, Serialize};

use sled::transaction::{ConflictableTransactionError, Transactional};

use super::record::{encode, Record, Table};
use super::{Store, StoreError, VaultEntryRecord};

/// `kind` of a provider registered at run time.
pub const KIND_OPENAI_COMPATIBLE: &str = "openai_compatible";

/// Where a provider's key comes from. The key itself is never in this record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthSource {
    /// No key (Ollama, or a built-in emptied of its key).
    None,
    /// A key given in the registration, kept in the vault under `provider:<id>`
    /// ([`ProviderRecord::registration_vault_name`]).
    Registration,
    /// Read from this environment variable when the provider starts.
    Env { var: String },
    /// A vault entry the user named (`api_key_vault`).
    Vault { name: String },
    /// An OAuth session (Anthropic), kept in the vault under `oauth:<id>`. `previous` is the key
    /// source to go back to when the session is removed.
    #[serde(rename = "oauth")]
    OAuth {
        #[serde(default)]
        previous: Option<Box<AuthSource>>,
    },
}

/// A registered provider, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRecord {
    pub schema: u32,
    pub id: String,
    /// `openai_compatible` for a custom provider, or the built-in's kind (`anthropic`, `openai`,
    /// `ollama`) for a built-in's override.
    pub kind: String,
    pub base_url: String,
    pub models: Vec<String>,
    pub auth: AuthSource,
    /// Extra upstream headers (not auth).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub max_retries: Option<u32>,
    #[serde(default)]
    pub allow_insecure_http: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl ProviderRecord {
    /// The vault entry that holds a key given in provider `id`'s registration.
    pub fn registration_vault_name(id: &str) -> String {
        format!("provider:{id}")
    }

    /// The vault entry this provider's key lives in, if it lives in the vault.
    pub fn vault_entry(&self) -> Option<String> {
        match &self.auth {
            AuthSource::Registration => Some(Self::registration_vault_name(&self.id)),
            AuthSource::Vault { name } => Some(name.clone()),
            AuthSource::OAuth { .. } => Some(crate::oauth::vault_entry(&self.id)),
            AuthSource::None | AuthSource::Env { .. } => None,
        }
    }
}

impl Record for ProviderRecord {
    const KIND: &'static str = "provider";

    fn key(&self) -> &str {
        &self.id
    }

    fn schema(&self) -> u32 {
        self.schema
    }
}

/// The providers tree. Each write is flushed before it returns.
#[derive(Clone)]
pub struct ProviderStore {
    table: Table<ProviderRecord>,
    /// The vault tree, for writing a record and its registration key in one transaction.
    vault: sled::Tree,
}

impl ProviderStore {
    pub(crate) fn new(store: Store, tree: sled::Tree, vault: sled::Tree) -> Self {
        ProviderStore {
            table: Table::new(store, tree),
            vault,
        }
    }

    /// Every stored provider, sorted by id.
    pub fn list(&self) -> Result<Vec<ProviderRecord>, StoreError> {
        self.table.list()
    }

    /// One provider.
    pub fn get(&self, id: &str) -> Result<Option<ProviderRecord>, StoreError> {
        self.table.get(id)
    }

    /// Registers a provider; [`StoreError::Conflict`] if the id is taken (the first record stays
    /// as it was). Atomic: two concurrent creates of one id cannot both succeed.
    pub fn create(&self, record: &ProviderRecord) -> Result<(), StoreError> {
        self.table.create(record)
    }

    /// Replaces a provider's record whole; [`StoreError::NotFound`] if it was deleted meanwhile.
    pub fn replace(&self, record: &ProviderRecord) -> Result<(), StoreError> {
        self.table.replace(record)
    }

    /// Creates or replaces (a built-in's override, which may or may not exist yet).
    pub fn upsert(&self, record: &ProviderRecord) -> Result<(), StoreError> {
        self.table.put(record)
    }

    /// Removes a provider; answers whether it was there.
    pub fn delete(&self, id: &str) -> Result<bool, StoreError> {
        self.table.delete(id)
    }

    /// Registers a provider together with the sealed vault entry of its registration key
    /// (`key`, named [`ProviderRecord::registration_vault_name`]), in one transaction over both
    /// trees, flushed: after a crash both are there or neither. [`StoreError::Conflict`] (and
    /// nothing written) if the id is taken.
    pub fn create_with_key(
        &self,
        record: &ProviderRecord,
        key: Option<&VaultEntryRecord>,
    ) -> Result<(), StoreError> {
        self.write_with_key(record, key, true)
    }

    /// Creates or replaces a provider's record together with its registration key's vault
    /// entry, in one transaction: a change of key and models is never found half applied after
    /// a crash (the new key beside the old models).
    pub fn upsert_with_key(
        &self,
        record: &ProviderRecord,
        key: Option<&VaultEntryRecord>,
    ) -> Result<(), StoreError> {
        self.write_with_key(record, key, false)
    }

    /// Replaces a provider's record and removes vault entry `name` in one transaction, flushed:
    /// a credential the record no longer uses (an OAuth session given up) is gone from disk
    /// exactly when the record stops naming it.
    pub fn upsert_removing_entry(
        &self,
        record: &ProviderRecord,
        name: &str,
    ) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        self.table.store().ensure_room(bytes.len())?;
        let id = record.id.as_bytes();
        (self.table.tree(), &self.vault)
            .transaction(|(providers, vault)| {
                providers.insert(id, bytes.as_slice())?;
                vault.remove(name.as_bytes())?;
                Ok(())
            })
            .map_err(|e| self.table.store().transaction_failed(e))?;
        self.table.store().flush()
    }

    /// Removes a provider and the vault entry of its registration key in one transaction,
    /// flushed, so no key of a deleted provider stays behind; answers whether the provider was
    /// there.
    pub fn delete_with_key(&self, id: &str) -> Result<bool, StoreError> {
        self.table.store().ensure_room_to_delete()?;
        let entry = ProviderRecord::registration_vault_name(id);
        let removed = (self.table.tree(), &self.vault)
            .transaction(|(providers, vault)| {
                let removed = providers.remove(id.as_bytes())?.is_some();
                if removed {
                    vault.remove(entry.as_bytes())?;
                }
                Ok(removed)
            })
            .map_err(|e| self.table.store().transaction_failed(e))?;
        if removed {
            self.table.store().flush()?;
        }
        Ok(removed)
    }

    fn write_with_key(
        &self,
        record: &ProviderRecord,
        key: Option<&VaultEntryRecord>,
        create: bool,
    ) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        let key = match key {
            Some(entry) => Some((entry.name.as_bytes(), encode(entry)?)),
            None => None,
        };
        let sealed = key.as_ref().map_or(0, |(_, sealed)| sealed.len());
        self.table.store().ensure_room(bytes.len() + sealed)?;
        let id = record.id.as_bytes();
        (self.table.tree(), &self.vault)
            .transaction(|(providers, vault)| {
                if create && providers.get(id)?.is_some() {
                    return Err(ConflictableTransactionError::Abort(StoreError::Conflict {
                        what: format!("provider '{}'", record.id),
                    }));
                }
                providers.insert(id, bytes.as_slice())?;
                if let Some((name, sealed)) = &key {
                    vault.insert(*name, sealed.as_slice())?;
                }
                Ok(())
            })
            .map_err(|e| self.table.store().transaction_failed(e))?;
        self.table.store().flush()
    }

    /// The ids of the providers whose key lives in vault entry `name` (a vault entry in use
    /// cannot be deleted).
    pub fn using_vault_entry(&self, name: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|rec| rec.vault_entry().as_deref() == Some(name))
            .map(|rec| rec.id)
            .collect())
    }
}
