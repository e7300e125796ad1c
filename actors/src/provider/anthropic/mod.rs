//! The Anthropic Messages API (PROTOCOLS.md §1), both ways.
//!
//! Towards `api.anthropic.com/v1/messages`: [`encode_request`], [`decode_response`],
//! [`decode_error`] and [`StreamDecoder`]. Towards a client of Moxxy's own `/v1/messages`:
//! [`decode_request`], [`encode_response`], [`encode_error`] and [`StreamEncoder`].
//!
//! Layout, one job per file:
//! - `request` — unified request → Anthropic body (top-level fields, thinking, tools);
//!   `turns` — its messages (system hoisting, turn merging, tool-result placement).
//! - `inbound` — Anthropic body → unified request, with errors that name the field.
//! - `blocks` — content blocks ↔ content parts, shared by requests and responses.
//! - `response` — non-streamed answers both ways; `mapping` — stop reasons and usage.
//! - `stream_decode` — SSE → events; `stream_encode` and `stream_blocks` — events → SSE.
//! - `error` — error bodies and error events both ways; `json` — field readers and helpers.
//!
//! Thinking blocks are what most often breaks a gateway in front of Anthropic: a thinking part is
//! replayed only with its signature, byte for byte, and reasoning from other providers (no
//! signature, or the empty one Moxxy shows Anthropic clients) is never sent as thinking.

mod blocks;
mod error;
mod inbound;
mod json;
mod mapping;
mod request;
mod response;
mod stream_blocks;
mod stream_decode;
mod stream_encode;
mod turns;

pub use error::{decode_error, encode_error};
pub use inbound::decode_request;
pub use request::{encode_request, DEFAULT_MAX_TOKENS, MIN_THINKING_BUDGET};
pub use response::{decode_response, encode_response};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;

/// The `anthropic-version` header every request carries (the SDKs' constant).
pub const API_VERSION: &str = "2023-06-01";
