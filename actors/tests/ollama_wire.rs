//! Ollama's native `/api/chat` wire module (PROTOCOLS.md §3 and §5), both directions.
//!
//! One test binary; the cases are grouped by subject in `ollama_wire/` (a test crate's root
//! resolves modules beside itself, hence the `#[path]`s).

#![allow(clippy::unwrap_used)]

#[path = "ollama_wire/client.rs"]
mod client;
#[path = "ollama_wire/errors.rs"]
mod errors;
#[path = "ollama_wire/host.rs"]
mod host;
#[path = "ollama_wire/request.rs"]
mod request;
#[path = "ollama_wire/response.rs"]
mod response;
#[path = "ollama_wire/stream.rs"]
mod stream;
#[path = "ollama_wire/stream_encoder.rs"]
mod stream_encoder;

use moxxy_actors::provider::ollama::StreamDecoder;
use moxxy_actors::provider::StreamDecode;
use moxxy_actors::{ChatResponse, StreamAccumulator, StreamEvent};

/// Decodes a body delivered in `reads`, then ends it. The generated message id of `Start` is
/// checked for its `msg_` prefix and blanked so runs compare equal.
pub fn decode_stream(reads: &[&[u8]]) -> Vec<StreamEvent> {
    let mut decoder = StreamDecoder::new();
    let mut events = Vec::new();
    for read in reads {
        decoder.feed(read, &mut events);
    }
    decoder.finish(&mut events);
    for event in &mut events {
        if let StreamEvent::Start { id, .. } = event {
            assert!(id.starts_with("msg_") && id.len() > 4, "generated id {id}");
            id.clear();
        }
    }
    events
}

/// Accumulates events into the answer they describe.
pub fn accumulate(events: &[StreamEvent]) -> Result<ChatResponse, moxxy_actors::ProviderError> {
    let mut acc = StreamAccumulator::new();
    for event in events {
        acc.push(event);
    }
    acc.finish()
}
