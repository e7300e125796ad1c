//! Typed records over sled trees: JSON with a schema version, checked on every read.
//!
//! Each kind of record (providers, tokens, vault entries, later agents and conversations) is a
//! [`Record`] kept in its own tree, keyed by its id. [`Table`] gives every kind the same safe
//! operations: a create that cannot overwrite (compare-and-swap on an absent key), a replace that
//! cannot resurrect a deleted record, and a flush before any write returns, so a write the API
//! acknowledges survives `kill -9`. A sled insert replaces a value whole, so a write that fails
//! (to encode, or to reach the disk) leaves the old record as it was.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, SCHEMA};

/// A kind of record kept in the store.
pub trait Record: Serialize + DeserializeOwned {
    /// What the record is called in errors ("provider", "token").
    const KIND: &'static str;

    /// The record's key in its tree (its id or name).
    fn key(&self) -> &str;

    /// The schema version the record carries.
    fn schema(&self) -> u32;
}

/// Only the version, read before the rest so a record from a newer moxxy is reported as such
/// rather than as corrupt.
#[derive(Deserialize)]
struct SchemaProbe {
    schema: Option<u32>,
}

/// Encodes a record, refusing any schema version but the current one (this build writes only
/// its current version; once older versions exist, a record read at one is upgraded first).
pub(crate) fn encode<T: Record>(record: &T) -> Result<Vec<u8>, StoreError> {
    let found = record.schema();
    if found != SCHEMA {
        return Err(StoreError::Encode {
            kind: T::KIND,
            key: record.key().to_string(),
            detail: format!("it carries schema version {found}, but this moxxy writes {SCHEMA}"),
        });
    }
    serde_json::to_vec(record).map_err(|err| StoreError::Encode {
        kind: T::KIND,
        key: record.key().to_string(),
        detail: err.to_string(),
    })
}

/// Decodes a stored record. The error names the key and, for a record that does not fit its
/// type, the field; it never repeats the stored bytes.
pub(crate) fn decode<T: Record>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    let key_text = || String::from_utf8_lossy(key).into_owned();
    let corrupt = |detail: String| StoreError::Corrupt {
        kind: T::KIND,
        key: key_text(),
        detail,
    };
    let probe: SchemaProbe = serde_json::from_slice(bytes)
        .map_err(|err| corrupt(format!("not a JSON object: {}", category(&err))))?;
    match probe.schema {
        None | Some(0) => return Err(corrupt("no schema version".to_string())),
        Some(found) if found > SCHEMA => {
            return Err(StoreError::Schema {
                kind: T::KIND,
                key: key_text(),
                found,
                supported: SCHEMA,
            })
        }
        Some(_) => {}
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // "missing field `x`" names a field, never a value; other serde messages may quote the
        // stored value, so only their category is reported.
        let what = if inner.to_string().starts_with("missing field") {
            inner.to_string()
        } else {
            category(&inner).to_string()
        };
        corrupt(format!("{what} at `{path}`"))
    })
}

fn category(err: &serde_json::Error) -> &'static str {
    match err.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "a value of the wrong type",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

/// One kind of record in its own sled tree.
pub(crate) struct Table<T> {
    store: Store,
    tree: sled::Tree,
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Table<T> {
    fn clone(&self) -> Self {
        Table {
            store: self.store.clone(),
            tree: self.tree.clone(),
            kind: PhantomData,
        }
    }
}

impl<T: Record> Table<T> {
    pub(crate) fn new(store: Store, tree: sled::Tree) -> Self {
        Table {
            store,
            tree,
            kind: PhantomData,
        }
    }

    /// The sled tree, for writes that span several trees in one transaction.
    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The store the table belongs to (for flushing after a transaction).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// One record.
    pub(crate) fn get(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self
            .tree
            .get(key.as_bytes())
            .map_err(|e| self.store.failed(e))?
        {
            Some(bytes) => decode(key.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every record, in key order.
    pub(crate) fn list(&self) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.iter() {
            let (key, bytes) = item.map_err(|e| self.store.failed(e))?;
            out.push(decode(&key, &bytes)?);
        }
        Ok(out)
    }

    /// Whether the tree holds no record.
    pub(crate) fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Stores a new record; `Conflict` (and nothing written) if its key is taken.
    pub(crate) fn create(&self, record: &T) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        self.store.ensure_room(bytes.len())?;
        let key = record.key();
        let swapped = self
            .tree
            .compare_and_swap(key.as_bytes(), None::<&[u8]>, Some(bytes))
            .map_err(|e| self.store.failed(e))?;
        if swapped.is_err() {
            return Err(StoreError::Conflict {
                what: format!("{} '{key}'", T::KIND),
            });
        }
        self.store.flush()
    }

    /// Replaces an existing record; `NotFound` (and nothing written) if there is none, so a
    /// replace racing a delete cannot bring the record back.
    pub(crate) fn replace(&self, record: &T) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        self.store.ensure_room(bytes.len())?;
        let key = record.key();
        loop {
            let Some(old) = self
                .tree
                .get(key.as_bytes())
                .map_err(|e| self.store.failed(e))?
            else {
                return Err(StoreError::NotFound {
                    what: format!("{} '{key}'", T::KIND),
                });
            };
            let swapped = self
                .tree
                .compare_and_swap(key.as_bytes(), Some(old), Some(bytes.as_slice()))
                .map_err(|e| self.store.failed(e))?;
            if swapped.is_ok() {
                return self.store.flush();
            }
        }
    }

    /// Creates or replaces a record.
    pub(crate) fn put(&self, record: &T) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        self.store.ensure_room(bytes.len())?;
        self.tree
            .insert(record.key().as_bytes(), bytes)
            .map_err(|e| self.store.failed(e))?;
        self.store.flush()
    }

    /// Changes a record in place with `change`, retrying if another writer got there first.
    /// `change` answers `None` to leave the record alone. Not flushed: for bookkeeping that no
    /// response acknowledges (a token's `last_used_at`). Answers whether a write happened.
    pub(crate) fn update_unflushed(
        &self,
        key: &str,
        change: impl Fn(T) -> Option<T>,
    ) -> Result<bool, StoreError> {
        loop {
            let Some(old) = self
                .tree
                .get(key.as_bytes())
                .map_err(|e| self.store.failed(e))?
            else {
                return Ok(false);
            };
            let Some(new) = change(decode(key.as_bytes(), &old)?) else {
                return Ok(false);
            };
            let bytes = encode(&new)?;
            self.store.ensure_room(bytes.len())?;
            let swapped = self
                .tree
                .compare_and_swap(key.as_bytes(), Some(old), Some(bytes))
                .map_err(|e| self.store.failed(e))?;
            if swapped.is_ok() {
                return Ok(true);
            }
        }
    }

    /// Removes a record; answers whether it was there.
    pub(crate) fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.store.ensure_room_to_delete()?;
        let removed = self
            .tree
            .remove(key.as_bytes())
            .map_err(|e| self.store.failed(e))?;
        if removed.is_some() {
            self.store.flush()?;
        }
        Ok(removed.is_some())
    }
}
