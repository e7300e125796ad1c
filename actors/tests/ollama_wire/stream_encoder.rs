//! Unified events -> the NDJSON stream an Ollama client reads, and back through the decoder.

use std::time::SystemTime;

use moxxy_actors::provider::ollama::StreamEncoder;
use moxxy_actors::provider::StreamEncode;
use moxxy_actors::{
    ContentPart, ErrorKind, ProviderError, StopReason, StreamEvent, ThinkingDelta, Usage,
};
use serde_json::{json, Value};

use super::{accumulate, decode_stream};

fn encode(model: &str, events: &[StreamEvent]) -> Vec<u8> {
    let mut encoder = StreamEncoder::new(model);
    let mut out = Vec::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    encoder.finish(&mut out);
    out
}

fn lines(body: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(body).unwrap();
    assert!(text.ends_with('\n'), "every line ends in \\n: {text}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn call_delta(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta {
        index,
        id: id.map(str::to_string),
        name: name.map(str::to_string),
        arguments: arguments.into(),
        extra: Default::default(),
    }
}

/// A stream as an OpenAI or Anthropic upstream gives it: arguments in fragments, usage after stop.
fn upstream_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "msg_up".into(),
            model: "gpt-4.1".into(),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Text("Think é".into()),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Signature("sig".into()),
        },
        StreamEvent::TextDelta {
            index: 1,
            text: "Checking 🙂".into(),
        },
        call_delta(2, Some("call_7Yq"), Some("get_weather"), ""),
        call_delta(2, None, None, "{\"ci"),
        call_delta(2, None, None, "ty\":\"Paris\"}"),
        call_delta(3, Some("call_8Zr"), Some("get_time"), "{}"),
        StreamEvent::Stop {
            reason: StopReason::ToolUse,
            stop_sequence: None,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 82,
            output_tokens: 21,
            ..Usage::default()
        }),
    ]
}

#[test]
fn events_become_ollama_lines_with_whole_tool_calls() {
    let out = lines(&encode("llama3.2", &upstream_events()));
    let messages: Vec<&Value> = out.iter().map(|l| &l["message"]).collect();
    assert_eq!(out.len(), 5, "{out:?}");
    assert_eq!(
        messages[..4],
        [
            &json!({"role": "assistant", "content": "", "thinking": "Think é"}),
            &json!({"role": "assistant", "content": "Checking 🙂"}),
            &json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_7Yq", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}]}),
            &json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_8Zr", "function": {"index": 1, "name": "get_time", "arguments": {}}}]}),
        ]
    );
    for line in &out[..4] {
        assert_eq!(line["done"], json!(false));
        // The model the client asked for, not the upstream's.
        assert_eq!(line["model"], json!("llama3.2"));
    }
    let last = &out[4];
    assert_eq!(last["done"], json!(true));
    assert_eq!(last["done_reason"], json!("stop"));
    assert_eq!(last["prompt_eval_count"], json!(82));
    assert_eq!(last["eval_count"], json!(21));
    assert_eq!(last["message"], json!({"role": "assistant", "content": ""}));
}

#[test]
fn interleaved_call_fragments_are_never_glued_together() {
    let events = [
        call_delta(0, Some("call_a"), Some("a"), "{\"x\":"),
        call_delta(1, Some("call_b"), Some("b"), "{\"y\":"),
        call_delta(0, None, None, "1}"),
        call_delta(1, None, None, "2}"),
        StreamEvent::Stop {
            reason: StopReason::ToolUse,
            stop_sequence: None,
        },
    ];
    let out = lines(&encode("m", &events));
    let calls: Vec<&Value> = out[..2]
        .iter()
        .map(|l| &l["message"]["tool_calls"][0])
        .collect();
    assert_eq!(
        calls,
        [
            &json!({"id": "call_a", "function": {"index": 0, "name": "a", "arguments": {"x": 1}}}),
            &json!({"id": "call_b", "function": {"index": 1, "name": "b", "arguments": {"y": 2}}}),
        ]
    );
    assert_eq!(out[2]["done"], json!(true));
}

#[test]
fn created_at_is_the_current_utc_time_in_rfc3339() {
    let before = httpdate::fmt_http_date(SystemTime::now());
    let out = lines(&encode(
        "m",
        &[StreamEvent::TextDelta {
            index: 0,
            text: "x".into(),
        }],
    ));
    let after = httpdate::fmt_http_date(SystemTime::now());
    let created = out[0]["created_at"].as_str().unwrap();
    // 2025-07-07T20:22:19.180000000Z
    let shape: String = created
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(shape, "dddd-dd-ddTdd:dd:dd.dddddddddZ", "{created}");
    // The same instant as an HTTP date ("Mon, 07 Jul 2025 20:22:19 GMT"), to the second.
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month: usize = created[5..7].parse().unwrap();
    let as_http = format!(
        "{} {} {} {} GMT",
        &created[8..10],
        months[month - 1],
        &created[0..4],
        &created[11..19]
    );
    assert!(
        before.ends_with(&as_http) || after.ends_with(&as_http),
        "{created} is neither {before} nor {after}"
    );
}

#[test]
fn an_error_is_an_error_line_and_ends_the_stream() {
    let events = [
        StreamEvent::TextDelta {
            index: 0,
            text: "Hel".into(),
        },
        StreamEvent::Error(ProviderError::new(ErrorKind::Overloaded, "Overloaded")),
        StreamEvent::TextDelta {
            index: 0,
            text: "lo".into(),
        },
    ];
    let out = lines(&encode("m", &events));
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[1], json!({"error": "Overloaded"}));
}

#[test]
fn a_stream_without_stop_ends_with_an_error_line() {
    let out = lines(&encode(
        "m",
        &[StreamEvent::TextDelta {
            index: 0,
            text: "x".into(),
        }],
    ));
    assert_eq!(out.len(), 2);
    assert!(out[1]["error"].as_str().unwrap().contains("ended before"));
}

#[test]
fn max_tokens_is_length() {
    let events = [StreamEvent::Stop {
        reason: StopReason::MaxTokens,
        stop_sequence: None,
    }];
    let out = lines(&encode("m", &events));
    assert_eq!(out[0]["done_reason"], json!("length"));
    // No usage was reported: no counts are invented.
    assert!(out[0].get("eval_count").is_none());
}

#[test]
fn the_decoder_reads_back_what_the_encoder_wrote() {
    let events = upstream_events();
    let body = encode("llama3.2", &events);
    // Fed byte by byte, to cross every character boundary.
    let reads: Vec<&[u8]> = body.chunks(1).collect();
    let decoded = decode_stream(&reads);
    let resp = accumulate(&decoded).unwrap();
    let original = accumulate(&events).unwrap();
    assert_eq!(resp.model, "llama3.2");
    assert_eq!(resp.stop_reason, original.stop_reason);
    assert_eq!(resp.usage, original.usage);
    // The signature has no Ollama form; everything else survives.
    let mut expected = original.content.clone();
    expected[0] = ContentPart::Thinking {
        text: "Think é".into(),
        signature: None,
    };
    assert_eq!(resp.content, expected);
}
