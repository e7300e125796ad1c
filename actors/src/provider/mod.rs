//! Providers: the actor that owns one upstream, and the wire protocols it speaks.
//!
//! Each protocol module (`anthropic`, `openai`, `ollama`) maps both ways between its wire format and
//! the unified types of [`crate::messages`]:
//!
//! - towards the upstream: `encode_request`, `decode_response`, `decode_error` and a
//!   `StreamDecoder` (raw body bytes in, [`StreamEvent`]s out);
//! - towards a client of Moxxy's compatible endpoints: `decode_request`, `encode_response`,
//!   `encode_error` and a `StreamEncoder` ([`StreamEvent`]s in, body bytes out).

pub mod anthropic;
pub mod ndjson;
pub mod ollama;
pub mod openai;
pub mod sse;

use crate::messages::StreamEvent;

/// Turns an upstream's streamed body into unified events. Implemented once per protocol.
pub trait StreamDecode: Send {
    /// Feeds the next bytes of the body, exactly as they arrived (a read may end anywhere, even
    /// inside a UTF-8 character), and appends the events they complete.
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<StreamEvent>);

    /// The body ended. Appends what the buffered tail completes and, if the protocol's terminator
    /// was never seen, a [`StreamEvent::Error`] saying the stream was cut short.
    fn finish(&mut self, out: &mut Vec<StreamEvent>);
}

/// Turns unified events into a client's streamed body. Implemented once per protocol.
pub trait StreamEncode: Send {
    /// Appends the wire bytes for `event` (possibly none: some events are held until the next).
    fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>);

    /// The stream ended: appends what was held back and the protocol's terminator.
    fn finish(&mut self, out: &mut Vec<u8>);
}
