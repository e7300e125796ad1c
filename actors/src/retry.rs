//! Retries (in progress).
