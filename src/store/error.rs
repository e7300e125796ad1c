//! What can go wrong with the registry, each case saying what to fix.

use std::path::PathBuf;

use sled::transaction::TransactionError;

/// An error of the sled registry.
///
/// None of these messages carries a record's contents: a record may hold header values or
/// ciphertext, and a corrupt one may hold anything. They name the kind of record and its key.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or opened.
    #[error("cannot open the data store at {path}: {reason}")]
    Open { path: PathBuf, reason: String },

    /// The disk under the data directory has too little room for this write (checked before
    /// the write reaches sled, see `room`); nothing was written.
    #[error(
        "the disk under the data directory {path} has {available} bytes free, too little for \
         this write; free space on it"
    )]
    Full { path: PathBuf, available: u64 },

    /// sled ran out of space on an earlier write and takes no more until moxxy restarts.
    #[error(
        "the data store stopped taking writes after the disk under it filled up; free space on \
         it, then restart moxxy"
    )]
    WritesStopped,

    /// Reading, writing or flushing failed after the store was opened.
    #[error("the data store failed: {0}; check the disk under the data directory")]
    Io(#[source] sled::Error),

    /// A create found the key taken; nothing was written.
    #[error("{what} already exists")]
    Conflict { what: String },

    /// A replace found no record to replace; nothing was written.
    #[error("{what} does not exist")]
    NotFound { what: String },

    /// A stored record cannot be decoded.
    #[error(
        "stored {kind} record '{key}' is unreadable ({detail}); restore the data directory from a \
         backup or remove that record"
    )]
    Corrupt {
        kind: &'static str,
        key: String,
        detail: String,
    },

    /// A record carries a schema version this build does not know.
    #[error(
        "{kind} record '{key}' has schema version {found}, but this moxxy understands versions 1 \
         to {supported}; run a newer moxxy with this data directory"
    )]
    Schema {
        kind: &'static str,
        key: String,
        found: u32,
        supported: u32,
    },

    /// A record could not be encoded; nothing was written.
    #[error("cannot encode {kind} record '{key}': {detail}")]
    Encode {
        kind: &'static str,
        key: String,
        detail: String,
    },
}

/// What a write refused for lack of disk space asks of the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoom {
    /// Free space, then retry: the write was refused before it reached sled.
    FreeSpace,
    /// Free space, then restart moxxy: sled ran out of space and takes no more writes.
    FreeSpaceAndRestart,
}

/// An error that may come from a full disk, so the API can say what to fix (507) rather than
/// give a bare 500.
pub trait OutOfSpace: std::fmt::Display {
    /// Why the write found no room, if that is why it failed.
    fn no_room(&self) -> Option<NoRoom>;
}

impl OutOfSpace for StoreError {
    fn no_room(&self) -> Option<NoRoom> {
        match self {
            StoreError::Full { .. } => Some(NoRoom::FreeSpace),
            StoreError::WritesStopped => Some(NoRoom::FreeSpaceAndRestart),
            // A full disk, or a spent quota on it.
            StoreError::Io(sled::Error::Io(io))
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                ) =>
            {
                Some(NoRoom::FreeSpaceAndRestart)
            }
            _ => None,
        }
    }
}

impl From<sled::Error> for StoreError {
    fn from(err: sled::Error) -> Self {
        StoreError::Io(err)
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(err: TransactionError<StoreError>) -> Self {
        match err {
            TransactionError::Abort(err) => err,
            TransactionError::Storage(err) => StoreError::Io(err),
        }
    }
}
