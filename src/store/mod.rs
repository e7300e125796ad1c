//! The sled registry: providers, tokens, vault entries, agents and conversations, each kind of
//! record in its own tree and its own module.
//!
//! Records are JSON carrying a `schema` version ([`SCHEMA`]); a record from a newer moxxy is an
//! error that names it, never a panic or a silent misread. Every write the API acknowledges is
//! flushed to disk before the call returns (sled `flush`, an fsync of its log), so `kill -9`
//! right after a 201 loses nothing; and since sled replaces a value whole, a write that fails
//! leaves the old record whole.
//!
//! [`Store`] is a cheap handle (an `Arc`); clone it into every part of the server that needs it.

pub mod agents;
pub mod conversations;
mod error;
pub mod providers;
mod record;
mod room;
pub mod tokens;
pub mod vault_entries;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use self::agents::{AgentRecord, AgentStore};
pub use self::conversations::{ConversationRecord, ConversationTree, MessageRecord};
pub use self::error::{NoRoom, OutOfSpace, StoreError};
pub use self::providers::{AuthSource, ProviderRecord, ProviderStore};
pub use self::record::Record;
pub use self::tokens::{TokenRecord, TokenStore};
pub use self::vault_entries::{VaultEntryRecord, VaultEntryStore};

/// The schema version this build writes, and the newest it reads.
pub const SCHEMA: u32 = 1;

/// How long a reading of the store's size on disk is used for [`room`] checks.
const FOOTPRINT_TTL: Duration = Duration::from_secs(1);

/// Tree names: one per kind of record, plus the token hash index and store metadata.
const PROVIDERS: &str = "providers";
const TOKENS: &str = "tokens";
const TOKEN_HASHES: &str = "token_hashes";
const VAULT: &str = "vault";
const META: &str = "meta";
const AGENTS: &str = "agents";
const CONVERSATIONS: &str = "conversations";

/// The registry: one sled database, a tree per kind of record.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    path: PathBuf,
    providers: sled::Tree,
    tokens: sled::Tree,
    token_hashes: sled::Tree,
    vault: sled::Tree,
    meta: sled::Tree,
    agents: sled::Tree,
    conversations: sled::Tree,
    /// Cleared when a read, write or flush fails, so `/readyz` stops answering ready.
    healthy: AtomicBool,
    /// Set when sled ran out of space: no write reaches it again (see [`room`]).
    writes_stopped: AtomicBool,
    /// The store's size on disk when it was read (plus what was written since), for [`room`].
    footprint: Mutex<Option<(Instant, u64)>>,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`. Fails with an error naming the path when
    /// the directory cannot be created or written, or another process (another moxxy) has the
    /// store open.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: dir.to_path_buf(),
            reason,
        };
        create_private_dir(dir).map_err(|err| open_err(describe_io(&err)))?;
        let db = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|err| open_err(describe_sled(&err)))?;
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|err| open_err(describe_sled(&err)))
        };
        let inner = Inner {
            providers: tree(PROVIDERS)?,
            tokens: tree(TOKENS)?,
            token_hashes: tree(TOKEN_HASHES)?,
            vault: tree(VAULT)?,
            meta: tree(META)?,
            agents: tree(AGENTS)?,
            conversations: tree(CONVERSATIONS)?,
            path: dir.to_path_buf(),
            healthy: AtomicBool::new(true),
            writes_stopped: AtomicBool::new(false),
            footprint: Mutex::new(None),
            db,
        };
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// The data directory the store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Writes everything buffered to disk (fsync). Every acknowledged write calls it.
    pub fn flush(&self) -> Result<(), StoreError> {
        if self.inner.writes_stopped.load(Ordering::Relaxed) {
            return Err(StoreError::WritesStopped);
        }
        self.inner.db.flush().map_err(|err| self.failed(err))?;
        Ok(())
    }

    /// Whether the store takes writes: false once sled ran out of space (until a restart).
    pub fn takes_writes(&self) -> bool {
        !self.inner.writes_stopped.load(Ordering::Relaxed)
    }

    /// Refuses a write of about `bytes` bytes before it reaches sled when sled stopped taking
    /// writes or the disk lacks room for it ([`room`]).
    pub(crate) fn ensure_room(&self, bytes: usize) -> Result<(), StoreError> {
        self.room(Some(bytes))
    }

    /// Like [`Store::ensure_room`] for a deletion or a revocation, which may use the reserve.
    pub(crate) fn ensure_room_to_delete(&self) -> Result<(), StoreError> {
        self.room(None)
    }

    fn room(&self, bytes: Option<usize>) -> Result<(), StoreError> {
        if !self.takes_writes() {
            return Err(StoreError::WritesStopped);
        }
        let need = match bytes {
            Some(bytes) => room::Need::Write {
                bytes,
                footprint: self.footprint(bytes),
            },
            None => room::Need::Delete,
        };
        room::check(&self.inner.path, need)
    }

    /// The store's size on disk, read at most once a second (sled walks its blob files), plus
    /// `bytes`, this write, and the writes let through since the reading.
    fn footprint(&self, bytes: usize) -> u64 {
        let mut cached = self
            .inner
            .footprint
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = cached.is_some_and(|(at, _)| at.elapsed() < FOOTPRINT_TTL);
        if !fresh {
            *cached = Some((Instant::now(), self.inner.db.size_on_disk().unwrap_or(0)));
        }
        let (at, size) = cached.unwrap_or((Instant::now(), 0));
        let size = size.saturating_add(bytes as u64);
        *cached = Some((at, size));
        size
    }

    /// Whether the store is usable: no write or flush has failed and a read succeeds. For
    /// `/readyz`.
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed) && self.inner.meta.get(b"health").is_ok()
    }

    /// Provider registrations and built-in overrides.
    pub fn providers(&self) -> ProviderStore {
        ProviderStore::new(
            self.clone(),
            self.inner.providers.clone(),
            self.inner.vault.clone(),
        )
    }

    /// `mox_` token records (hashes only) and their hash index.
    pub fn tokens(&self) -> TokenStore {
        TokenStore::new(
            self.clone(),
            self.inner.tokens.clone(),
            self.inner.token_hashes.clone(),
            self.inner.meta.clone(),
        )
    }

    /// Encrypted vault entries (the [`crate::vault::Vault`] encrypts; this only stores).
    pub fn vault_entries(&self) -> VaultEntryStore {
        VaultEntryStore::new(
            self.clone(),
            self.inner.vault.clone(),
            self.inner.meta.clone(),
        )
    }

    /// Agents created through the API.
    pub fn agents(&self) -> AgentStore {
        AgentStore::new(
            self.clone(),
            self.inner.agents.clone(),
            self.conversations(),
        )
    }

    /// Every agent's conversations and messages.
    pub fn conversations(&self) -> ConversationTree {
        ConversationTree::new(self.clone(), self.inner.conversations.clone())
    }

    /// A failed transaction as a store error; a storage failure marks the store unhealthy.
    pub(crate) fn transaction_failed(
        &self,
        error: sled::transaction::TransactionError<StoreError>,
    ) -> StoreError {
        match StoreError::from(error) {
            StoreError::Io(io) => self.failed(io),
            other => other,
        }
    }

    /// Records a failure of the underlying store and converts it. Out of space, sled takes no
    /// more writes from here on.
    pub(crate) fn failed(&self, err: sled::Error) -> StoreError {
        self.inner.healthy.store(false, Ordering::Relaxed);
        let error = StoreError::Io(err);
        if error.no_room().is_some() {
            self.inner.writes_stopped.store(true, Ordering::Relaxed);
            tracing::error!(
                "the disk under the data directory ran out of space during a write; the store \
                 takes no more writes until moxxy restarts"
            );
        }
        error
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Creates the data directory (and its parents) readable by its owner only: it holds the
/// vault's ciphertext and possibly the master key.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn describe_io(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            format!("{err}; the disk under it is full: free space on it and start moxxy again")
        }
        std::io::ErrorKind::PermissionDenied => {
            format!("{err}; make the directory writable by this user or choose another data directory (storage.path or MOXXY_DATA_DIR)")
        }
        _ => format!("{err}; choose another data directory (storage.path or MOXXY_DATA_DIR)"),
    }
}

fn describe_sled(err: &sled::Error) -> String {
    match err {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            "it is locked by another process; is another moxxy running with this data directory? \
             Stop it, or give this one another data directory (storage.path or MOXXY_DATA_DIR)"
                .to_string()
        }
        sled::Error::Io(io) => describe_io(io),
        other => format!("{other}; restore the data directory from a backup"),
    }
}
