//! Token generation and scopes (in progress).
