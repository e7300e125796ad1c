//! What Moxxy's fuzz targets share: cutting one input into reads, running a stream decoder over
//! them, and the properties every decoded stream must keep.
//!
//! The stream targets take `SEED(4 bytes) ++ BODY`: the seed picks where the body is cut into
//! reads (as a network would deliver it), so the fuzzer explores split points and bytes at once,
//! and the seed corpus can hold real upstream bodies behind four arbitrary bytes. Every target
//! checks more than "no panic": the events must not depend on where the body was cut, must end
//! with at most one error, and must encode into well-formed client streams (OpenAI chunks and
//! Anthropic events), since that is where decoded events go in the gateway.

use moxxy_actors::provider::sse::SseDecoder;
use moxxy_actors::provider::{anthropic, openai, StreamDecode, StreamEncode};
use moxxy_actors::StreamEvent;
use serde_json::Value;

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

/// The events with every id (message and tool call) replaced by its order of first appearance:
/// decoders make up random ids where the upstream gave none (Ollama always), and those must not
/// make two decodings of the same body differ.
pub fn canonical_ids(events: &[StreamEvent]) -> Vec<StreamEvent> {
    let mut seen: Vec<String> = Vec::new();
    let mut rename = |id: &str| {
        let n = match seen.iter().position(|s| s == id) {
            Some(n) => n,
            None => {
                seen.push(id.to_string());
                seen.len() - 1
            }
        };
        format!("id{n}")
    };
    events
        .iter()
        .map(|event| match event {
            StreamEvent::Start { id, model } => StreamEvent::Start {
                id: rename(id),
                model: model.clone(),
            },
            StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                arguments,
                extra,
            } => StreamEvent::ToolCallDelta {
                index: *index,
                id: id.as_deref().map(&mut rename),
                name: name.clone(),
                arguments: arguments.clone(),
                extra: extra.clone(),
            },
            other => other.clone(),
        })
        .collect()
}

/// The properties of one decoded stream: at most one `Error`, and nothing after it.
pub fn check_events(events: &[StreamEvent]) {
    let errors = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Error(_)))
        .count();
    assert!(errors <= 1, "more than one error event: {events:?}");
    if errors == 1 {
        assert!(
            matches!(events.last(), Some(StreamEvent::Error(_))),
            "events after an error: {events:?}"
        );
    }
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

/// Encodes `events` as both clients receive them and checks the bytes: every SSE event's data
/// is JSON (or OpenAI's `[DONE]`), and the Anthropic stream's blocks open, grow and close in
/// order.
pub fn check_client_streams(events: &[StreamEvent]) {
    for include_usage in [false, true] {
        let body = encode(openai::StreamEncoder::new("m", include_usage), events);
        for (_, data) in sse(&body) {
            if data != "[DONE]" {
                json(&data);
            }
        }
    }
    let body = encode(anthropic::StreamEncoder::new("m"), events);
    check_anthropic_stream(&body);
}

fn encode(mut encoder: impl StreamEncode, events: &[StreamEvent]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    encoder.finish(&mut out);
    out
}

fn sse(body: &[u8]) -> Vec<(String, String)> {
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    decoder.feed(body, &mut events);
    decoder.finish(&mut events);
    events.into_iter().map(|e| (e.event, e.data)).collect()
}

fn json(data: &str) -> Value {
    match serde_json::from_str(data) {
        Ok(value) => value,
        Err(e) => panic!("an encoded event is not JSON ({e}): {data:?}"),
    }
}

/// An Anthropic client stream: `message_start` first; blocks numbered 0, 1, … each opened once,
/// its deltas while it is open, closed before the next opens; ends with `message_stop` or an
/// `error` event.
fn check_anthropic_stream(body: &[u8]) {
    let events = sse(body);
    let Some((first, _)) = events.first() else {
        return;
    };
    let mut open: Option<u64> = None;
    let mut next = 0;
    for (name, data) in &events {
        let data = json(data);
        assert_eq!(data["type"], name.as_str(), "event name and type differ");
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(open, None, "a block started while another was open");
                assert_eq!(data["index"], next, "blocks are numbered in order");
                open = Some(next);
                next += 1;
            }
            "content_block_delta" => {
                assert_eq!(data["index"].as_u64(), open, "a delta outside its block")
            }
            "content_block_stop" => {
                assert_eq!(data["index"].as_u64(), open, "a stop of a block not open");
                open = None;
            }
            "message_delta" => assert_eq!(open, None, "message_delta inside a block"),
            _ => {}
        }
    }
    let last = events.last().map(|(name, _)| name.as_str());
    if first != "error" {
        assert_eq!(first, "message_start", "the stream starts with message_start");
    }
    assert!(
        matches!(last, Some("message_stop" | "error")),
        "the stream ends with message_stop or error, not {last:?}"
    );
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
