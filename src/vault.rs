//! The vault (in progress).
/// Placeholder.
#[derive(Debug, Clone)]
pub struct Vault;
