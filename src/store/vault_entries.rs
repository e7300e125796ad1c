//! Vault entries as stored: ciphertext only. [`crate::vault::Vault`] encrypts and decrypts;
//! this module never sees a plaintext.

use serde::{Deserialize, Serialize};

use super::record::{Record, Table};
use super::{Store, StoreError};

/// Key in the `meta` tree of the vault's key check: a fixed text sealed with the master key, so
/// a wrong key is told apart from a damaged entry.
const KEY_CHECK: &[u8] = b"vault:key_check";

/// One encrypted entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultEntryRecord {
    pub schema: u32,
    pub name: String,
    /// The 24-byte nonce followed by the sealed value (ciphertext and tag); base64 in JSON.
    #[serde(with = "base64_bytes")]
    pub ciphertext: Vec<u8>,
    /// The value's last four characters, kept for listing (`None` for a value shorter than 12).
    #[serde(default)]
    pub last4: Option<String>,
    pub updated_at: String,
}

impl Record for VaultEntryRecord {
    const KIND: &'static str = "vault entry";

    fn key(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> u32 {
        self.schema
    }
}

/// The vault tree. Each write is flushed before it returns.
#[derive(Clone)]
pub struct VaultEntryStore {
    table: Table<VaultEntryRecord>,
    meta: sled::Tree,
}

impl VaultEntryStore {
    pub(crate) fn new(store: Store, tree: sled::Tree, meta: sled::Tree) -> Self {
        VaultEntryStore {
            table: Table::new(store, tree),
            meta,
        }
    }

    /// Creates or replaces an entry.
    pub fn put(&self, record: &VaultEntryRecord) -> Result<(), StoreError> {
        self.table.put(record)
    }

    /// One entry.
    pub fn get(&self, name: &str) -> Result<Option<VaultEntryRecord>, StoreError> {
        self.table.get(name)
    }

    /// Every entry, sorted by name.
    pub fn list(&self) -> Result<Vec<VaultEntryRecord>, StoreError> {
        self.table.list()
    }

    /// Removes an entry; answers whether it was there.
    pub fn delete(&self, name: &str) -> Result<bool, StoreError> {
        self.table.delete(name)
    }

    /// The sealed key check, if the vault has one.
    pub fn key_check(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self
            .meta
            .get(KEY_CHECK)
            .map_err(|e| self.table.store().failed(e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    /// Stores the sealed key check unless one exists (flushed); answers whether this one was
    /// stored. When another writer got there first, theirs stays.
    pub fn set_key_check_if_absent(&self, sealed: &[u8]) -> Result<bool, StoreError> {
        self.table.store().ensure_room(sealed.len())?;
        let swapped = self
            .meta
            .compare_and_swap(KEY_CHECK, None::<&[u8]>, Some(sealed))
            .map_err(|e| self.table.store().failed(e))?;
        if swapped.is_ok() {
            self.table.store().flush()?;
        }
        Ok(swapped.is_ok())
    }
}

/// `Vec<u8>` as a base64 string: a third of the size of a JSON array of numbers.
mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(de)?;
        STANDARD
            .decode(text)
            .map_err(|_| serde::de::Error::custom("ciphertext is not valid base64"))
    }
}
