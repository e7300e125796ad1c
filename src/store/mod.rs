//! The sled registry (in progress).
/// Placeholder.
#[derive(Debug, Clone)]
pub struct Store;
