//! Ollama's native API (`/api/chat`, `/api/tags`; PROTOCOLS.md §3 and §5), both directions.
//!
//! Towards an Ollama server: [`encode_request`], [`decode_response`], [`decode_error`] and
//! [`StreamDecoder`]. Towards an Ollama-native client of Moxxy: [`decode_request`],
//! [`encode_response`], [`encode_error`] and [`StreamEncoder`]. Plus the addressing rules:
//! [`parse_host`] for `OLLAMA_HOST`, [`normalize_model`] and [`decode_tags`].
//!
//! What makes Ollama differ from the other protocols, and where it is handled:
//! - no ids for messages, and none for tool calls on older servers: generated (`shared`);
//! - tool results name the tool (`tool_name`), looked up from the call when the client's protocol
//!   did not say (`request_messages`), and tool results without an id are paired with their call
//!   (`client_messages`);
//! - images only as raw base64, tool-call arguments only as JSON objects (`request_messages`);
//! - no tool stop reason: tool use is inferred from the calls seen (`shared::stop_reason`);
//! - streams are NDJSON of whole answer objects ending in `done:true`, and `stream` defaults to
//!   true, so it is always sent (`request`, `stream`, `stream_encoder`).
//!
//! Layout: `types` holds the wire shape of answers; `request`/`request_messages` and
//! `client_request`/`client_messages`/`fields` are the two directions of the request; `response`,
//! `stream`, `stream_encoder` and `error` the answers; `host`, `models` and `clock` the small rest.

mod client_messages;
mod client_request;
mod clock;
mod error;
mod fields;
mod host;
mod models;
mod request;
mod request_messages;
mod response;
mod shared;
mod stream;
mod stream_encoder;
mod types;

pub use client_request::decode_request;
pub use error::{decode_error, encode_error};
pub use host::parse_host;
pub use models::{decode_tags, normalize_model};
pub use request::encode_request;
pub use response::{decode_response, encode_response};
pub use stream::StreamDecoder;
pub use stream_encoder::StreamEncoder;
