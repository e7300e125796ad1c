//! mox_ tokens and the request extractor (in progress).
pub mod token;
