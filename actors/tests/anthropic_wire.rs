//! The Anthropic Messages wire module (`provider::anthropic`), both directions: requests,
//! answers, streams and errors, against PROTOCOLS.md §1 and §5 and the pitfalls of PITFALLS.md.
#![allow(clippy::unwrap_used)]

#[path = "anthropic_wire/errors.rs"]
mod errors;
#[path = "anthropic_wire/inbound.rs"]
mod inbound;
#[path = "anthropic_wire/request.rs"]
mod request;
#[path = "anthropic_wire/request_options.rs"]
mod request_options;
#[path = "anthropic_wire/response.rs"]
mod response;
#[path = "anthropic_wire/robustness.rs"]
mod robustness;
#[path = "anthropic_wire/roundtrip.rs"]
mod roundtrip;
#[path = "anthropic_wire/stream.rs"]
mod stream;

use moxxy_actors::provider::anthropic::{StreamDecoder, StreamEncoder};
use moxxy_actors::provider::sse::SseDecoder;
use moxxy_actors::provider::{StreamDecode, StreamEncode};
use moxxy_actors::{ChatResponse, StreamAccumulator, StreamEvent};
use serde_json::Value;

/// A recorded stream from `tests/fixtures/anthropic/`.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/anthropic/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap()
}

/// Decodes a whole body fed in one read, then finished.
fn decode_all(body: &[u8]) -> Vec<StreamEvent> {
    decode_in_chunks(body, body.len().max(1))
}

/// Decodes a body fed `size` bytes at a time, then finished.
fn decode_in_chunks(body: &[u8], size: usize) -> Vec<StreamEvent> {
    let mut decoder = StreamDecoder::new();
    let mut events = Vec::new();
    for chunk in body.chunks(size) {
        decoder.feed(chunk, &mut events);
    }
    decoder.finish(&mut events);
    events
}

/// Encodes events for a client, then finishes the stream.
fn encode_all(events: &[StreamEvent], model: &str) -> Vec<u8> {
    let mut encoder = StreamEncoder::new(model);
    let mut out = Vec::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    encoder.finish(&mut out);
    out
}

/// The SSE events of a body: the `event:` name and the JSON data.
fn sse_events(body: &[u8]) -> Vec<(String, Value)> {
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    decoder.feed(body, &mut events);
    decoder.finish(&mut events);
    events
        .into_iter()
        .map(|e| (e.event, serde_json::from_str(&e.data).unwrap()))
        .collect()
}

fn accumulate(events: &[StreamEvent]) -> ChatResponse {
    let mut acc = StreamAccumulator::new();
    for event in events {
        acc.push(event);
    }
    acc.finish().unwrap()
}
