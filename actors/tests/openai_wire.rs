//! The OpenAI Chat Completions wire module, both directions, against PROTOCOLS.md §2, §4, §5 and
//! the PITFALLS list. Streams live as files under `tests/fixtures/openai/`.
#![allow(clippy::unwrap_used)]

mod openai_wire {
    pub mod client;
    pub mod errors;
    pub mod request;
    pub mod response;
    pub mod stream_decode;
    pub mod stream_encode;
}

use moxxy_actors::provider::openai::{Dialect, StreamDecoder};
use moxxy_actors::provider::StreamDecode;
use moxxy_actors::{ChatResponse, StreamAccumulator, StreamEvent};

/// A stream fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/openai/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap()
}

/// Decodes a whole body fed in one read.
pub fn decode_all(dialect: Dialect, body: &[u8]) -> Vec<StreamEvent> {
    decode_in_pieces(dialect, body, body.len().max(1))
}

/// Decodes a body fed `size` bytes at a time.
pub fn decode_in_pieces(dialect: Dialect, body: &[u8], size: usize) -> Vec<StreamEvent> {
    let mut decoder = StreamDecoder::new(dialect);
    let mut out = Vec::new();
    for piece in body.chunks(size) {
        decoder.feed(piece, &mut out);
    }
    decoder.finish(&mut out);
    out
}

/// The answer the events add up to.
pub fn accumulate(events: &[StreamEvent]) -> ChatResponse {
    let mut acc = StreamAccumulator::new();
    for e in events {
        acc.push(e);
    }
    acc.finish().unwrap()
}

/// Events with message and tool-call ids blanked (some are generated), for comparing runs.
pub fn without_ids(events: &[StreamEvent]) -> Vec<StreamEvent> {
    events
        .iter()
        .cloned()
        .map(|mut e| {
            match &mut e {
                StreamEvent::Start { id, .. } => id.clear(),
                StreamEvent::ToolCallDelta { id: Some(id), .. } => id.clear(),
                _ => {}
            }
            e
        })
        .collect()
}
