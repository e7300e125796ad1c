//! How a provider actor survives an unwell or busy upstream.
//!
//! Four pieces, each usable alone, all shared by every request to one provider:
//!
//! - [`RetryPolicy`] ([`backoff`]): whether and how long to wait before trying a failed attempt
//!   again — the upstream's own hint first, else exponential backoff with full jitter, within a
//!   bound on the total wait of one request.
//! - [`headers`]: the upstream's hints, read from response headers (`retry-after-ms`,
//!   `retry-after`, `x-should-retry`, and the Anthropic and OpenAI rate-limit buckets), plus the
//!   rate-limit headers worth passing on to our own clients.
//! - [`CoolDown`] ([`cooldown`]): "not before T", set when the upstream says its buckets are empty,
//!   so that every caller waits instead of each one spending a 429 to learn the same thing.
//! - [`Circuit`] ([`circuit`]): after repeated signs that the upstream is down, refuse at once
//!   rather than make every caller wait for its own timeout, and let one probe test the water.
//!
//! Retries happen only before the first byte went to the caller; that rule belongs to the caller,
//! which alone knows whether it has sent anything.

pub mod backoff;
pub mod circuit;
pub mod cooldown;
pub mod headers;

pub use backoff::RetryPolicy;
pub use circuit::{Circuit, CircuitConfig, CircuitPermit, CircuitState};
pub use cooldown::CoolDown;
pub use headers::{
    exhausted_until, parse_go_duration, parse_rfc3339, passthrough_headers, retry_after,
    should_retry,
};
