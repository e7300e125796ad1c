//! Micro-benchmarks of the wire protocols, in bytes per second: the SSE and NDJSON decoders,
//! request translations (a client's body to unified, unified to an upstream's body) and stream
//! translations (an upstream's stream to unified events, unified events to a client's stream).
//!
//! ```text
//! cargo bench -p moxxy-actors --bench wire              # all, a few seconds each
//! cargo bench -p moxxy-actors --bench wire -- stream/   # one group
//! ```
//!
//! Inputs are realistic: streams of 200 text deltas rendered by the fake upstream (the same
//! bytes the providers send), read in 1 KiB pieces as a socket delivers them; a request of a
//! system prompt, six turns and a tool. Throughput is counted in the bytes each step consumes.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use moxxy_actors::provider::ndjson::NdjsonDecoder;
use moxxy_actors::provider::openai::Dialect;
use moxxy_actors::provider::sse::SseDecoder;
use moxxy_actors::provider::{anthropic, ollama, openai, StreamDecode, StreamEncode};
use moxxy_actors::StreamEvent;
use moxxy_fake_upstream as fake;
use serde_json::json;

/// Text deltas per benchmarked stream.
const DELTAS: usize = 200;
/// How much of a stream one socket read hands the decoder.
const READ: usize = 1024;

fn pieces() -> Vec<String> {
    (0..DELTAS).map(|i| format!("token{i} ")).collect()
}

fn joined(chunks: &[Bytes]) -> Vec<u8> {
    chunks.iter().flat_map(|c| c.iter().copied()).collect()
}

fn openai_stream() -> Vec<u8> {
    let owned = pieces();
    let pieces: Vec<&str> = owned.iter().map(String::as_str).collect();
    let usage = fake::openai::Usage::new(120, DELTAS as u64);
    joined(&fake::openai::stream_text(
        fake::openai::MODEL,
        &pieces,
        Some(usage),
    ))
}

fn anthropic_stream() -> Vec<u8> {
    let owned = pieces();
    let pieces: Vec<&str> = owned.iter().map(String::as_str).collect();
    joined(&fake::anthropic::stream_text(
        fake::anthropic::MODEL,
        &pieces,
    ))
}

fn ollama_stream() -> Vec<u8> {
    let owned = pieces();
    let pieces: Vec<&str> = owned.iter().map(String::as_str).collect();
    joined(&fake::ollama::stream_text(fake::ollama::MODEL, &pieces))
}

/// Feeds `bytes` to `decoder` in socket-sized reads and finishes it.
fn decode(decoder: &mut dyn StreamDecode, bytes: &[u8]) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    for read in bytes.chunks(READ) {
        decoder.feed(read, &mut events);
    }
    decoder.finish(&mut events);
    events
}

/// Encodes `events` for a client, as the server's SSE body does.
fn encode(encoder: &mut dyn StreamEncode, events: &[StreamEvent]) -> usize {
    let mut written = 0;
    let mut out = Vec::new();
    for event in events {
        encoder.encode(event, &mut out);
        written += out.len();
        out.clear();
    }
    encoder.finish(&mut out);
    written + out.len()
}

fn decoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("decoder");
    let sse = openai_stream();
    group.throughput(Throughput::Bytes(sse.len() as u64));
    group.bench_function("sse", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new();
            let mut events = Vec::new();
            for read in sse.chunks(READ) {
                decoder.feed(black_box(read), &mut events);
            }
            decoder.finish(&mut events);
            events
        })
    });
    let ndjson = ollama_stream();
    group.throughput(Throughput::Bytes(ndjson.len() as u64));
    group.bench_function("ndjson", |b| {
        b.iter(|| {
            let mut decoder = NdjsonDecoder::new();
            let mut lines = Vec::new();
            for read in ndjson.chunks(READ) {
                decoder.feed(black_box(read), &mut lines);
            }
            decoder.finish(&mut lines);
            lines
        })
    });
    group.finish();
}

/// A chat request in OpenAI's form: a system prompt, six turns, a tool, the usual options.
fn openai_request() -> Vec<u8> {
    let mut messages = vec![
        json!({"role": "system", "content": "You are a concise assistant who answers questions about the weather and cites sources."}),
    ];
    for turn in 0..3 {
        messages.push(json!({"role": "user", "content": format!("Question {turn}: what will the weather be like in Paris tomorrow afternoon, and should I carry an umbrella?")}));
        messages.push(json!({"role": "assistant", "content": format!("Answer {turn}: light rain is expected after 3 pm with temperatures around 14 degrees; an umbrella is a good idea.")}));
    }
    messages.push(json!({"role": "user", "content": "And the day after?"}));
    let body = json!({
        "model": "gpt-4.1",
        "messages": messages,
        "max_tokens": 512,
        "temperature": 0.7,
        "stream": true,
        "stream_options": {"include_usage": true},
        "tools": [{"type": "function", "function": {
            "name": "get_weather",
            "description": "The forecast for a city and a day",
            "parameters": {"type": "object", "properties": {
                "city": {"type": "string"}, "day": {"type": "string"}
            }, "required": ["city"]},
        }}],
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The same conversation in Anthropic's form.
fn anthropic_request() -> Vec<u8> {
    let mut messages = Vec::new();
    for turn in 0..3 {
        messages.push(json!({"role": "user", "content": format!("Question {turn}: what will the weather be like in Paris tomorrow afternoon, and should I carry an umbrella?")}));
        messages.push(json!({"role": "assistant", "content": [{"type": "text", "text": format!("Answer {turn}: light rain is expected after 3 pm with temperatures around 14 degrees; an umbrella is a good idea.")}]}));
    }
    messages.push(json!({"role": "user", "content": "And the day after?"}));
    let body = json!({
        "model": "claude-sonnet-4-5",
        "system": "You are a concise assistant who answers questions about the weather and cites sources.",
        "messages": messages,
        "max_tokens": 512,
        "temperature": 0.7,
        "stream": true,
        "tools": [{
            "name": "get_weather",
            "description": "The forecast for a city and a day",
            "input_schema": {"type": "object", "properties": {
                "city": {"type": "string"}, "day": {"type": "string"}
            }, "required": ["city"]},
        }],
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

fn requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    let openai_body = openai_request();
    let anthropic_body = anthropic_request();
    group.throughput(Throughput::Bytes(openai_body.len() as u64));
    group.bench_function("openai->unified", |b| {
        b.iter(|| openai::decode_request(black_box(&openai_body)))
    });
    group.throughput(Throughput::Bytes(anthropic_body.len() as u64));
    group.bench_function("anthropic->unified", |b| {
        b.iter(|| anthropic::decode_request(black_box(&anthropic_body)))
    });
    let Ok(unified) = openai::decode_request(&openai_body) else {
        return;
    };
    // Encoding is measured to the bytes sent upstream, whose size is the throughput.
    let to_bytes = |value: serde_json::Value| serde_json::to_vec(&value).unwrap_or_default();
    let openai_out = openai::encode_request(&unified, Dialect::OpenAi).map(to_bytes);
    group.throughput(Throughput::Bytes(openai_out.map_or(0, |b| b.len()) as u64));
    group.bench_function("unified->openai", |b| {
        b.iter(|| openai::encode_request(black_box(&unified), Dialect::OpenAi).map(to_bytes))
    });
    let anthropic_out = anthropic::encode_request(&unified).map(to_bytes);
    group.throughput(Throughput::Bytes(
        anthropic_out.map_or(0, |b| b.len()) as u64
    ));
    group.bench_function("unified->anthropic", |b| {
        b.iter(|| anthropic::encode_request(black_box(&unified)).map(to_bytes))
    });
    group.finish();
}

fn streams(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream");
    let openai_sse = openai_stream();
    let anthropic_sse = anthropic_stream();
    let ollama_lines = ollama_stream();

    group.throughput(Throughput::Bytes(openai_sse.len() as u64));
    group.bench_function("openai->unified", |b| {
        b.iter(|| {
            decode(
                &mut openai::StreamDecoder::new(Dialect::OpenAi),
                black_box(&openai_sse),
            )
        })
    });
    group.throughput(Throughput::Bytes(anthropic_sse.len() as u64));
    group.bench_function("anthropic->unified", |b| {
        b.iter(|| {
            decode(
                &mut anthropic::StreamDecoder::new(),
                black_box(&anthropic_sse),
            )
        })
    });
    group.throughput(Throughput::Bytes(ollama_lines.len() as u64));
    group.bench_function("ollama->unified", |b| {
        b.iter(|| decode(&mut ollama::StreamDecoder::new(), black_box(&ollama_lines)))
    });

    // Encoders: counted in the bytes they write for the client.
    let events = decode(
        &mut openai::StreamDecoder::new(Dialect::OpenAi),
        &openai_sse,
    );
    let openai_out = encode(&mut openai::StreamEncoder::new("gpt-4.1", true), &events);
    group.throughput(Throughput::Bytes(openai_out as u64));
    group.bench_function("unified->openai", |b| {
        b.iter(|| {
            encode(
                &mut openai::StreamEncoder::new("gpt-4.1", true),
                black_box(&events),
            )
        })
    });
    let anthropic_out = encode(
        &mut anthropic::StreamEncoder::new("claude-sonnet-4-5"),
        &events,
    );
    group.throughput(Throughput::Bytes(anthropic_out as u64));
    group.bench_function("unified->anthropic", |b| {
        b.iter(|| {
            encode(
                &mut anthropic::StreamEncoder::new("claude-sonnet-4-5"),
                black_box(&events),
            )
        })
    });

    // The translated path of the load benchmark, end to end: an Anthropic upstream's stream
    // to an OpenAI client's, counted in the upstream's bytes.
    group.throughput(Throughput::Bytes(anthropic_sse.len() as u64));
    group.bench_function("anthropic->openai", |b| {
        b.iter(|| {
            let events = decode(
                &mut anthropic::StreamDecoder::new(),
                black_box(&anthropic_sse),
            );
            encode(&mut openai::StreamEncoder::new("gpt-4.1", true), &events)
        })
    });
    group.finish();
}

fn responses(c: &mut Criterion) {
    let mut group = c.benchmark_group("response");
    let text: String = pieces().concat();
    let usage = fake::openai::Usage::new(120, DELTAS as u64);
    let body = serde_json::to_vec(&fake::openai::completion(&text, usage)).unwrap_or_default();
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("openai->unified", |b| {
        b.iter(|| openai::decode_response(black_box(&body), Dialect::OpenAi))
    });
    let usage = fake::anthropic::Usage::new(120, DELTAS as u64);
    let body = serde_json::to_vec(&fake::anthropic::message(&text, usage)).unwrap_or_default();
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("anthropic->unified", |b| {
        b.iter(|| anthropic::decode_response(black_box(&body)))
    });
    group.finish();
}

criterion_group!(benches, decoders, requests, streams, responses);
criterion_main!(benches);
