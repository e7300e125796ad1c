//! The anthropic wire protocol (in progress).
