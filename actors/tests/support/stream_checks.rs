//! Properties every decoded stream and every client stream must keep, shared by the property
//! tests (`actors/tests/stream_mappers.rs`) and the fuzz targets (`fuzz/`, which include this
//! file by path), so both hold the code to the same rules.
//!
//! - [`canonical_ids`]: events with made-up ids renamed, so two decodings compare equal.
//! - [`check_events`]: one stream of unified events is well formed.
//! - [`check_client_streams`]: the events, encoded for OpenAI and Anthropic clients, are well
//!   formed streams of their protocol.

use moxxy_actors::provider::sse::SseDecoder;
use moxxy_actors::provider::{anthropic, openai, StreamEncode};
use moxxy_actors::StreamEvent;
use serde_json::Value;

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

/// The properties of one decoded stream: at most one `Error`, and nothing after it; at most one
/// `Stop`, and after it only usage (or the error).
pub fn check_events(events: &[StreamEvent]) {
    if let Some(stop) = events
        .iter()
        .position(|e| matches!(e, StreamEvent::Stop { .. }))
    {
        assert!(
            events[stop + 1..]
                .iter()
                .all(|e| matches!(e, StreamEvent::Usage(_) | StreamEvent::Error(_))),
            "events after Stop: {events:?}"
        );
    }
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

/// Encodes `events` as both clients receive them and checks the bytes: every SSE event's data
/// is JSON (or OpenAI's `[DONE]`), and the Anthropic stream's blocks open, grow and close in
/// order.
pub fn check_client_streams(events: &[StreamEvent]) {
    for include_usage in [false, true] {
        let body = encode(openai::StreamEncoder::new("m", include_usage), events);
        check_openai_stream(&body);
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

/// An OpenAI client stream: every chunk JSON; one `finish_reason` at most, and no content after
/// it; nothing after `[DONE]`.
fn check_openai_stream(body: &[u8]) {
    let mut finished = false;
    let mut done = false;
    for (_, data) in sse(body) {
        assert!(!done, "data after [DONE]");
        if data == "[DONE]" {
            done = true;
            continue;
        }
        let chunk = json(&data);
        let choice = &chunk["choices"][0];
        if finished {
            assert!(
                choice.is_null() || choice["delta"].as_object().is_some_and(|d| d.is_empty()),
                "content after finish_reason: {data}"
            );
        }
        if !choice["finish_reason"].is_null() {
            assert!(!finished, "a second finish_reason: {data}");
            finished = true;
        }
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
    let mut delta_seen = false;
    for (name, data) in &events {
        let data = json(data);
        assert_eq!(data["type"], name.as_str(), "event name and type differ");
        match name.as_str() {
            "content_block_start" => {
                assert!(!delta_seen, "a block started after message_delta");
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
            "message_delta" => {
                assert_eq!(open, None, "message_delta inside a block");
                delta_seen = true;
            }
            _ => {}
        }
    }
    let last = events.last().map(|(name, _)| name.as_str());
    if first != "error" {
        assert_eq!(
            first, "message_start",
            "the stream starts with message_start"
        );
    }
    assert!(
        matches!(last, Some("message_stop" | "error")),
        "the stream ends with message_stop or error, not {last:?}"
    );
}
