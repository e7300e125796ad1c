//! The vault: secrets (provider keys, OAuth tokens) encrypted at rest with the master key.
//!
//! Each value is sealed with XChaCha20-Poly1305 under a fresh random 24-byte nonce (large enough
//! that random nonces never repeat), with the entry's name as associated data: a ciphertext
//! copied to another name does not open. The store only ever sees `nonce || ciphertext`.
//!
//! A sealed fixed text (the key check, in the store's `meta` tree) is written with the first
//! entry. It tells a wrong master key ([`VaultError::WrongKey`]) from one damaged entry, and
//! stops a wrong key from adding entries the right key could not read.

mod master_key;

use std::path::PathBuf;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use moxxy_actors::ApiKey;
use rand::RngCore;
use secrecy::zeroize::Zeroizing;
use serde::Serialize;

pub use self::master_key::{KeySource, MasterKey, KEY_FILE, KEY_LEN};
use crate::store::{
    NoRoom, OutOfSpace, Store, StoreError, VaultEntryRecord, VaultEntryStore, SCHEMA,
};
use crate::time;

const NONCE_LEN: usize = 24;
/// Associated data of an entry: this prefix, then the entry's name.
const AAD_ENTRY: &[u8] = b"moxxy-vault-v1:entry:";
/// Associated data of the key check.
const AAD_CHECK: &[u8] = b"moxxy-vault-v1:key-check";
const CHECK_TEXT: &[u8] = b"moxxy vault key check";
const MAX_NAME_LEN: usize = 128;

/// What can go wrong with the vault or its master key. No message carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "invalid vault entry name {0:?}: use 1 to 128 characters (letters, digits, '_', '.', ':', \
         '-'), starting with a letter or digit"
    )]
    InvalidName(String),

    #[error(
        "the master key does not open the vault (decryption fails): start moxxy with the key the \
         vault was written with (MOXXY_MASTER_KEY, or master.key in the data directory)"
    )]
    WrongKey,

    #[error(
        "vault entry '{name}' cannot be decrypted although the master key opens the vault: it is \
         damaged or was copied from another entry; store its value again"
    )]
    Undecryptable { name: String },

    #[error("cannot encrypt the value of vault entry '{name}': it is too large")]
    Encrypt { name: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(
        "MOXXY_MASTER_KEY cannot be used: {reason}. It must be base64 of exactly 32 bytes; make \
         one with: head -c32 /dev/urandom | base64"
    )]
    EnvKey { reason: String },

    #[error("cannot use the vault master key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },

    #[error(
        "the vault master key file {path} has mode {mode:04o}, so others may read it; it must be \
         readable by its owner only: run chmod 600 {path}"
    )]
    KeyFileMode { path: PathBuf, mode: u32 },

    #[error("cannot generate a master key: the system's random source failed: {reason}")]
    KeyRandom { reason: String },
}

impl OutOfSpace for VaultError {
    fn no_room(&self) -> Option<NoRoom> {
        match self {
            VaultError::Store(e) => e.no_room(),
            _ => None,
        }
    }
}

/// A vault entry as listed: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaultEntryInfo {
    pub name: String,
    /// The value's last four characters; `None` under 12 characters (as [`ApiKey::last4`]).
    pub last4: Option<String>,
    pub updated_at: String,
}

/// The vault: a cipher keyed with the master key over the store's vault tree. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    cipher: Arc<XChaCha20Poly1305>,
    entries: VaultEntryStore,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { .. }")
    }
}

impl Vault {
    /// A vault sealing with `key` into `store`. Call [`Vault::check`] at start-up to find out
    /// whether the key is the vault's.
    pub fn new(key: MasterKey, store: Store) -> Vault {
        let cipher = XChaCha20Poly1305::new(Key::from_slice(key.bytes()));
        Vault {
            cipher: Arc::new(cipher),
            entries: store.vault_entries(),
        }
    }

    /// Checks a name: `[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}`.
    pub fn validate_name(name: &str) -> Result<(), VaultError> {
        let mut bytes = name.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
        let rest_ok =
            bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
        if first_ok && rest_ok && name.len() <= MAX_NAME_LEN {
            Ok(())
        } else {
            Err(VaultError::InvalidName(name.chars().take(64).collect()))
        }
    }

    /// Stores `value` under `name`, replacing any value there; flushed before it returns.
    /// Refused with [`VaultError::WrongKey`] if the key is not the vault's.
    pub fn put(&self, name: &str, value: &ApiKey) -> Result<(), VaultError> {
        let record = self.seal_entry(name, value)?;
        self.entries.put(&record)?;
        Ok(())
    }

    /// The sealed record of `value` under `name`, not yet stored: for a write that stores it
    /// in one transaction with another record (a provider and its registration key). Refused
    /// with [`VaultError::WrongKey`] if the key is not the vault's.
    pub fn seal_entry(&self, name: &str, value: &ApiKey) -> Result<VaultEntryRecord, VaultError> {
        Self::validate_name(name)?;
        self.ensure_key_check()?;
        let ciphertext = self
            .seal(&entry_aad(name), value.expose().as_bytes())
            .ok_or_else(|| VaultError::Encrypt {
                name: name.to_string(),
            })?;
        Ok(VaultEntryRecord {
            schema: SCHEMA,
            name: name.to_string(),
            ciphertext,
            last4: value.last4(),
            updated_at: time::now_rfc3339(),
        })
    }

    /// The value under `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<ApiKey>, VaultError> {
        Self::validate_name(name)?;
        let Some(record) = self.entries.get(name)? else {
            return Ok(None);
        };
        let Some(plain) = self.open(&entry_aad(name), &record.ciphertext) else {
            return Err(self.diagnose(name));
        };
        match std::str::from_utf8(&plain) {
            // `String::from` allocates exactly, so the only other copy is `plain`, zeroized.
            Ok(text) => Ok(Some(ApiKey::new(String::from(text)))),
            Err(_) => Err(VaultError::Undecryptable {
                name: name.to_string(),
            }),
        }
    }

    /// Every entry's name, `last4` and `updated_at`, sorted by name.
    pub fn list(&self) -> Result<Vec<VaultEntryInfo>, VaultError> {
        Ok(self
            .entries
            .list()?
            .into_iter()
            .map(|rec| VaultEntryInfo {
                name: rec.name,
                last4: rec.last4,
                updated_at: rec.updated_at,
            })
            .collect())
    }

    /// Removes an entry (flushed); answers whether it was there.
    pub fn delete(&self, name: &str) -> Result<bool, VaultError> {
        Self::validate_name(name)?;
        Ok(self.entries.delete(name)?)
    }

    /// Verifies that the master key opens the vault (its key check, or an entry of a vault
    /// without one). An empty vault accepts any key. For start-up: fail early and clearly
    /// rather than at the first request that needs a secret.
    pub fn check(&self) -> Result<(), VaultError> {
        match self.entries.key_check()? {
            Some(sealed) => self.open_key_check(&sealed),
            None => self.check_first_entry(),
        }
    }

    /// Makes sure the vault has a key check this key opens, writing one if there is none.
    fn ensure_key_check(&self) -> Result<(), VaultError> {
        if let Some(sealed) = self.entries.key_check()? {
            return self.open_key_check(&sealed);
        }
        self.check_first_entry()?;
        let sealed = self
            .seal(AAD_CHECK, CHECK_TEXT)
            .ok_or(VaultError::Encrypt {
                name: "key check".to_string(),
            })?;
        if self.entries.set_key_check_if_absent(&sealed)? {
            return Ok(());
        }
        // Another writer stored its check first; it must open with this key too.
        match self.entries.key_check()? {
            Some(sealed) => self.open_key_check(&sealed),
            None => Err(VaultError::WrongKey),
        }
    }

    fn open_key_check(&self, sealed: &[u8]) -> Result<(), VaultError> {
        match self.open(AAD_CHECK, sealed) {
            Some(plain) if plain.as_slice() == CHECK_TEXT => Ok(()),
            _ => Err(VaultError::WrongKey),
        }
    }

    /// For a vault without a key check: the key must open its first entry, if any.
    fn check_first_entry(&self) -> Result<(), VaultError> {
        match self.entries.list()?.first() {
            Some(rec) if self.open(&entry_aad(&rec.name), &rec.ciphertext).is_none() => {
                Err(VaultError::WrongKey)
            }
            _ => Ok(()),
        }
    }

    /// Why an entry did not open: the wrong key, or a damaged or moved entry.
    fn diagnose(&self, name: &str) -> VaultError {
        match self.entries.key_check() {
            Ok(Some(sealed)) if self.open_key_check(&sealed).is_ok() => VaultError::Undecryptable {
                name: name.to_string(),
            },
            Err(err) => VaultError::Store(err),
            _ => VaultError::WrongKey,
        }
    }

    /// `nonce || ciphertext`; `None` only for a value too large to encrypt.
    fn seal(&self, aad: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .ok()?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The plaintext of `nonce || ciphertext`, zeroized when dropped; `None` if it does not open
    /// with this key and `aad`.
    fn open(&self, aad: &[u8], stored: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (nonce, sealed) = stored.split_at_checked(NONCE_LEN)?;
        let mut buffer = Zeroizing::new(sealed.to_vec());
        self.cipher
            .decrypt_in_place(XNonce::from_slice(nonce), aad, &mut *buffer)
            .ok()?;
        Some(buffer)
    }
}

fn entry_aad(name: &str) -> Vec<u8> {
    [AAD_ENTRY, name.as_bytes()].concat()
}
