//! Configuration (in progress: replaced by the config module).
/// Placeholder.
#[derive(Debug, Clone, Default)]
pub struct Config;
