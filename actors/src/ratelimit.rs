//! Rate limits (in progress).
