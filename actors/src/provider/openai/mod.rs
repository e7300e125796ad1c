//! OpenAI Chat Completions, both ways, for OpenAI and every compatible service (xAI, Gemini's
//! compatibility layer, DeepSeek, Ollama's `/v1`, relays).
//!
//! One wire module with named per-service adjustments ([`Dialect`]) and one capability table per
//! model family ([`model_caps`]), rather than a copy per vendor.
//!
//! Towards the upstream: [`encode_request`], [`decode_response`], [`decode_error`] and
//! [`StreamDecoder`]. Towards a client of Moxxy's `/v1/chat/completions`: [`decode_request`],
//! [`encode_response`], [`encode_error`] and [`StreamEncoder`].
//!
//! Files, one job each:
//! - `dialect`: which service, and what each model family accepts;
//! - `types`: the upstream's answer shapes, decoded tolerantly, and the shared mappings;
//! - `request`: unified request → upstream body;
//! - `client_request`: client body → unified request, with errors that name the field;
//! - `response`: non-streamed answers both ways;
//! - `stream_decode` / `stream_encode`: SSE streams both ways;
//! - `error`: error bodies both ways.
//!
//! Conventions shared by both directions:
//! - reasoning travels as `reasoning_content` (DeepSeek's field; `reasoning` is read too);
//! - an OpenAI `refusal` is a text part marked `"refusal": true` in its `extra`, so other
//!   protocols show it as text and OpenAI clients get it back as `refusal`;
//! - a Gemini thought signature (`extra_content` on a tool call) rides in the call's `extra`.

mod client_request;
mod dialect;
mod error;
mod request;
mod response;
mod stream_decode;
mod stream_encode;
mod types;

pub use client_request::decode_request;
pub use dialect::{model_caps, Dialect, ModelCaps};
pub use error::{decode_error, encode_error};
pub use request::{encode_request, DEEPSEEK_REASONING_PLACEHOLDER};
pub use response::{decode_response, encode_response};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;
