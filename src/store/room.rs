//! Room on the data directory's disk, checked before every write.
//!
//! sled 0.34 does not survive running out of space. A failed write to its log makes every later
//! write fail until the process restarts; worse, a failed write of a large value leaves the log
//! buffer it reserved with a writer that never leaves, so the next flush waits forever — a hung
//! request, and once every worker is hung, a hung server. And sled writes far more than the
//! value: it rewrites a whole tree node (up to 17 values) when it consolidates or splits one,
//! and keeps the old copies until it reclaims their segments.
//!
//! So the store never lets sled near the end of the disk. A write of `n` bytes needs free space
//! for `2 n`, plus twice the store's size on disk (capped at [`NODE_REWRITE_CAP`], the most one
//! node rewrite can take), plus [`WRITE_RESERVE`]; otherwise it is refused with
//! [`StoreError::Full`] before sled sees it, and works again once space is freed. A deletion needs
//! only [`DELETE_RESERVE`], so space can be freed through the API on a disk writes found full.
//!
//! Should sled run out of space anyway (another process filled the disk between the check and
//! the write), the store takes no more writes ([`StoreError::WritesStopped`]) rather than call
//! into sled again and hang; a restart brings writes back.

use std::path::Path;

use super::StoreError;

/// Free space a write leaves untouched: room for sled's log records and segment bookkeeping.
pub(crate) const WRITE_RESERVE: u64 = 1024 * 1024;
/// The most one rewrite of a tree node can take: 17 values of the largest body the API takes
/// by default (4 MiB), with room to spare.
pub(crate) const NODE_REWRITE_CAP: u64 = 128 * 1024 * 1024;
/// Free space a deletion needs (a few small log records): deletions may dip into the reserve.
pub(crate) const DELETE_RESERVE: u64 = 64 * 1024;

/// What a write needs.
pub(crate) enum Need {
    /// A write of about this many bytes, to a store this large on disk.
    Write { bytes: usize, footprint: u64 },
    /// A deletion or a revocation.
    Delete,
}

/// Refuses the write when the disk under `dir` has too little room for `need`. A disk whose
/// free space cannot be read is not refused: the check guards sled, it must not stop a store
/// that works.
pub(crate) fn check(dir: &Path, need: Need) -> Result<(), StoreError> {
    let needed = match need {
        Need::Write { bytes, footprint } => WRITE_RESERVE
            .saturating_add((bytes as u64).saturating_mul(2))
            .saturating_add(footprint.min(NODE_REWRITE_CAP).saturating_mul(2)),
        Need::Delete => DELETE_RESERVE,
    };
    match fs2::available_space(dir) {
        Ok(available) if available < needed => Err(StoreError::Full {
            path: dir.to_path_buf(),
            available,
        }),
        _ => Ok(()),
    }
}
