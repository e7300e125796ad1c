//! Tests of `moxxy_actors::retry`: upstream hints, the retry policy, the shared cool-down and the
//! circuit breaker. One test binary; one module per piece,
//! kept in `retry/` beside this file (a crate root's modules would otherwise sit in `tests/`
//! and each become a test binary of its own).
#![allow(clippy::unwrap_used)]

#[path = "retry/backoff.rs"]
mod backoff;
#[path = "retry/circuit.rs"]
mod circuit;
#[path = "retry/cooldown.rs"]
mod cooldown;
#[path = "retry/headers.rs"]
mod headers;
