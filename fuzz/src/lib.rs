//! What Moxxy's fuzz targets share: cutting one input into reads, running a stream decoder over
//! them, and the properties every decoded stream must keep.
//!
//! The stream targets take `SEED(4 bytes) ++ BODY`: the seed picks where the body is cut into
//! reads (as a network would deliver it), so the fuzzer explores split points and bytes at once,
//! and the seed corpus can hold real upstream bodies behind four arbitrary bytes. Every target
//! checks more than "no panic": the events must not depend on where the body was cut, must end
//! with at most one error, and must encode into well-formed client streams (OpenAI chunks and
//! Anthropic events), since that is where decoded events go in the gateway.

use moxxy_actors::provider::{anthropic, openai, StreamDecode};
use moxxy_actors::StreamEvent;

#[path = "../../actors/tests/support/stream_checks.rs"]
mod stream_checks;
pub use stream_checks::{canonical_ids, check_client_streams, check_events};

/// The input of a stream target: the reads to feed, and the whole body.
pub struct Cut<'a> {
    pub reads: Vec<&'a [u8]>,
    pub body: &'a [u8],
}

/// Splits `data` into a 4-byte seed and the body, and cuts the body where the seed says: up to
/// 15 pseudo-random points, or (bit 4 of the seed) one byte per read. `None` for inputs shorter
/// than the seed.
pub fn cut(data: &[u8]) -> Option<Cut<'_>> {
    let (seed, body) = data.split_first_chunk::<4>()?;
    let seed = u32::from_le_bytes(*seed);
    if seed & 0x10 != 0 {
        return Some(Cut {
            reads: body.chunks(1).collect(),
            body,
        });
    }
    let mut state = seed | 1;
    let mut points: Vec<usize> = (0..(seed & 0xF))
        .map(|_| {
            // xorshift32: cheap, and the same seed always cuts the same way.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as usize % (body.len() + 1)
        })
        .collect();
    points.sort_unstable();
    let mut reads = Vec::with_capacity(points.len() + 1);
    let mut from = 0;
    for point in points {
        reads.push(&body[from..point]);
        from = point;
    }
    reads.push(&body[from..]);
    Some(Cut { reads, body })
}

/// Feeds `reads` to `decoder`, finishes it, and returns every event.
pub fn decode(mut decoder: Box<dyn StreamDecode>, reads: &[&[u8]]) -> Vec<StreamEvent> {
    let mut out = Vec::new();
    for read in reads {
        decoder.feed(read, &mut out);
    }
    decoder.finish(&mut out);
    out
}

/// Decodes `cut` with a fresh decoder twice, whole and in its reads, and checks that both give
/// the same events (ids aside), that those keep [`check_events`], and that they encode into
/// well-formed client streams.
pub fn check_decoder(make: impl Fn() -> Box<dyn StreamDecode>, cut: &Cut<'_>) {
    let whole = decode(make(), &[cut.body]);
    let split = decode(make(), &cut.reads);
    assert_eq!(
        canonical_ids(&whole),
        canonical_ids(&split),
        "the events depend on where the body was cut"
    );
    check_events(&whole);
    check_client_streams(&whole);
}

/// A client request body through its decoder and then every upstream encoder: none may panic,
/// and a request that decodes encodes to JSON for every upstream (or is refused with an error).
pub fn check_request(decoded: Result<moxxy_actors::ChatRequest, moxxy_actors::ProviderError>) {
    let Ok(request) = decoded else {
        return;
    };
    let _ = anthropic::encode_request(&request);
    for dialect in [
        openai::Dialect::OpenAi,
        openai::Dialect::Xai,
        openai::Dialect::Gemini,
        openai::Dialect::DeepSeek,
        openai::Dialect::Generic,
    ] {
        let _ = openai::encode_request(&request, dialect);
    }
    let _ = moxxy_actors::provider::ollama::encode_request(&request);
    // The request's token estimate runs before every upstream call.
    let _ = request.estimated_input_tokens();
}
