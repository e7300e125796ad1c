//! `StreamEncoder`: unified events as Anthropic's event sequence, checked by decoding the output
//! again with `StreamDecoder` and by the block structure an Anthropic client relies on.

use moxxy_actors::provider::anthropic::StreamEncoder;
use moxxy_actors::provider::StreamEncode;
use moxxy_actors::{
    ErrorKind, JsonObject, ProviderError, StopReason, StreamEvent, ThinkingDelta, Usage,
};
use serde_json::{json, Value};

use super::stream::example_events;
use super::{accumulate, decode_all, encode_all, fixture, sse_events};

fn tool(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta {
        index,
        id: id.map(str::to_string),
        name: name.map(str::to_string),
        arguments: arguments.to_string(),
        extra: JsonObject::new(),
    }
}

fn text(index: u32, text: &str) -> StreamEvent {
    StreamEvent::TextDelta {
        index,
        text: text.into(),
    }
}

fn usage(input: u64, output: u64) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    })
}

fn stop(reason: StopReason) -> StreamEvent {
    StreamEvent::Stop {
        reason,
        stop_sequence: None,
    }
}

/// Checks the shape every Anthropic client relies on: `message_start` first, blocks numbered
/// 0, 1, 2… each started, given deltas and stopped before the next starts, then
/// `message_delta` and `message_stop`; every `event:` name equals the data's `type`.
pub(super) fn assert_well_formed(body: &[u8]) -> Vec<(String, Value)> {
    let events = sse_events(body);
    assert_eq!(events.first().map(|e| e.0.as_str()), Some("message_start"));
    assert_eq!(events.last().map(|e| e.0.as_str()), Some("message_stop"));
    let mut open: Option<u64> = None;
    let mut next = 0;
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str());
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(open, None, "a block started while another was open");
                assert_eq!(data["index"], next);
                open = Some(next);
                next += 1;
            }
            "content_block_delta" => assert_eq!(data["index"].as_u64(), open),
            "content_block_stop" => {
                assert_eq!(data["index"].as_u64(), open);
                open = None;
            }
            "message_delta" => assert_eq!(open, None, "message_delta inside a block"),
            _ => {}
        }
    }
    events
}

#[test]
fn the_example_stream_survives_encoding_and_decoding_unchanged() {
    let original = decode_all(&fixture("thinking_text_tool.sse"));
    let body = encode_all(&original, "claude-sonnet-4-5-20250929");
    let events = assert_well_formed(&body);
    assert_eq!(decode_all(&body), original);
    assert_eq!(decode_all(&body), example_events());
    // Block types and the signature delta as Anthropic sends them.
    let starts: Vec<&Value> = events
        .iter()
        .filter(|e| e.0 == "content_block_start")
        .map(|e| &e.1["content_block"])
        .collect();
    assert_eq!(
        starts[0],
        &json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(starts[1], &json!({"type": "text", "text": ""}));
    assert_eq!(
        starts[2],
        &json!({"type": "tool_use", "id": "toolu_01T1", "name": "get_weather", "input": {}})
    );
    assert!(events
        .iter()
        .any(|e| e.1["delta"]["type"] == "signature_delta"));
    let start = &events[0].1["message"];
    assert_eq!(start["id"], "msg_01Hq");
    assert_eq!(start["usage"]["input_tokens"], 512);
    let delta = events.iter().find(|e| e.0 == "message_delta").unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta.1["usage"]["output_tokens"], 89);
}

#[test]
fn interleaved_openai_style_tool_calls_become_sequential_blocks() {
    let events = vec![
        StreamEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4.1".into(),
        },
        text(0, "Let me check "),
        text(0, "both."),
        tool(1, Some("call_a"), Some("weather"), ""),
        tool(2, Some("call_b"), Some("time"), ""),
        tool(1, None, None, "{\"city\":"),
        tool(2, None, None, "{\"zone\":"),
        tool(1, None, None, "\"Paris\"}"),
        tool(2, None, None, "\"CET\"}"),
        stop(StopReason::ToolUse),
        usage(40, 12),
    ];
    let body = encode_all(&events, "gpt-4.1");
    let sse = assert_well_formed(&body);
    let starts = sse.iter().filter(|e| e.0 == "content_block_start").count();
    assert_eq!(starts, 3);
    assert_eq!(sse[0].1["message"]["id"], "msg_chatcmpl-1");

    let expected = accumulate(&events);
    let decoded = decode_all(&body);
    assert!(!decoded.iter().any(|e| matches!(e, StreamEvent::Error(_))));
    let got = accumulate(&decoded);
    assert_eq!(got.content, expected.content);
    assert_eq!(
        got.tool_calls().map(|c| c.2.clone()).collect::<Vec<_>>(),
        vec![json!({"city": "Paris"}), json!({"zone": "CET"})]
    );
    assert_eq!(got.stop_reason, StopReason::ToolUse);
    // Usage that came after the stop still reaches the client, in the message_delta.
    assert_eq!(
        got.usage,
        Some(Usage {
            input_tokens: 40,
            output_tokens: 12,
            ..Usage::default()
        })
    );
    let deltas: Vec<_> = sse.iter().filter(|e| e.0 == "message_delta").collect();
    assert_eq!(deltas.len(), 1);
    assert_eq!(deltas[0].1["usage"]["output_tokens"], 12);
}

#[test]
fn sequential_tool_calls_stream_as_they_come() {
    let mut encoder = StreamEncoder::new("m");
    let mut out = Vec::new();
    for event in [
        StreamEvent::Start {
            id: "x".into(),
            model: "m".into(),
        },
        tool(0, Some("call_a"), Some("f"), "{\"a\":1}"),
        tool(1, Some("call_b"), Some("g"), "{\"b\":"),
    ] {
        encoder.encode(&event, &mut out);
    }
    // The first call is complete, so it is closed and the second one is already streaming.
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\"partial_json\":\"{\\\"b\\\":\""), "{text}");
    assert_eq!(text.matches("event: content_block_stop").count(), 1);
}

#[test]
fn text_interleaved_with_thinking_from_another_provider_keeps_everything() {
    let events = vec![
        StreamEvent::Start {
            id: "r1".into(),
            model: "deepseek-v4-pro".into(),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Text("hmm ".into()),
        },
        text(1, "Hello"),
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Text("late".into()),
        },
        text(1, " world"),
        usage(5, 6),
        stop(StopReason::EndTurn),
    ];
    let body = encode_all(&events, "deepseek-v4-pro");
    assert_well_formed(&body);
    let got = accumulate(&decode_all(&body));
    assert_eq!(got.text(), "Hello world");
    let thinking: String = got
        .content
        .iter()
        .filter_map(|p| match p {
            moxxy_actors::ContentPart::Thinking { text, signature } => {
                assert_eq!(signature, &None);
                Some(text.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(thinking, "hmm late");
    assert_eq!(got.usage.unwrap().output_tokens, 6);
}

#[test]
fn usage_before_content_goes_into_message_start_and_otherwise_zeros() {
    let body = encode_all(
        &[usage(100, 0), text(0, "a"), stop(StopReason::EndTurn)],
        "m",
    );
    let sse = assert_well_formed(&body);
    assert_eq!(sse[0].1["message"]["usage"]["input_tokens"], 100);
    assert_eq!(sse[0].1["message"]["model"], "m");
    assert!(sse[0].1["message"]["id"]
        .as_str()
        .unwrap()
        .starts_with("msg_"));

    let body = encode_all(
        &[text(0, "a"), stop(StopReason::EndTurn), usage(100, 9)],
        "m",
    );
    let sse = assert_well_formed(&body);
    assert_eq!(sse[0].1["message"]["usage"]["input_tokens"], 0);
    let delta = sse.iter().find(|e| e.0 == "message_delta").unwrap();
    assert_eq!(delta.1["usage"]["input_tokens"], 100);
    assert_eq!(delta.1["usage"]["output_tokens"], 9);
}

#[test]
fn cached_input_is_split_back_out_for_anthropic_clients() {
    let cached = StreamEvent::Usage(Usage {
        input_tokens: 1000,
        output_tokens: 7,
        cache_read_tokens: 600,
        cache_write_tokens: 300,
        reasoning_tokens: 0,
    });
    let body = encode_all(
        &[
            cached.clone(),
            text(0, "a"),
            cached.clone(),
            stop(StopReason::EndTurn),
        ],
        "m",
    );
    let sse = assert_well_formed(&body);
    assert_eq!(
        sse[0].1["message"]["usage"],
        json!({"input_tokens": 100, "cache_creation_input_tokens": 300,
               "cache_read_input_tokens": 600, "output_tokens": 7})
    );
    let decoded = decode_all(&body);
    assert_eq!(decoded.last(), Some(&stop(StopReason::EndTurn)));
    assert_eq!(decoded[decoded.len() - 2], cached);
}

#[test]
fn stop_reasons_and_sequences_reach_the_message_delta() {
    let events = [
        text(0, "a"),
        usage(1, 1),
        StreamEvent::Stop {
            reason: StopReason::StopSequence,
            stop_sequence: Some("###".into()),
        },
    ];
    let sse = assert_well_formed(&encode_all(&events, "m"));
    let delta = &sse.iter().find(|e| e.0 == "message_delta").unwrap().1;
    assert_eq!(
        delta["delta"],
        json!({"stop_reason": "stop_sequence", "stop_sequence": "###"})
    );
}

#[test]
fn an_error_ends_the_stream_with_an_error_event_and_nothing_after() {
    let error = ProviderError::new(ErrorKind::Overloaded, "Overloaded");
    let events = [
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "m".into(),
        },
        text(0, "part"),
        StreamEvent::Error(error),
        text(0, "never"),
        stop(StopReason::EndTurn),
    ];
    let body = encode_all(&events, "m");
    let sse = sse_events(&body);
    let last = sse.last().unwrap();
    assert_eq!(last.0, "error");
    assert_eq!(
        last.1,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    assert!(!sse
        .iter()
        .any(|e| e.0 == "message_stop" || e.0 == "message_delta"));
    // And an Anthropic decoder sees the same error kind.
    let decoded = decode_all(&body);
    assert!(
        matches!(decoded.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::Overloaded)
    );
}

#[test]
fn redacted_thinking_is_written_whole_in_its_start() {
    let events = [
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Redacted("EmwK==".into()),
        },
        text(1, "ok"),
        stop(StopReason::EndTurn),
    ];
    let body = encode_all(&events, "m");
    let sse = assert_well_formed(&body);
    assert_eq!(
        sse[1].1["content_block"],
        json!({"type": "redacted_thinking", "data": "EmwK=="})
    );
    let got = accumulate(&decode_all(&body));
    assert_eq!(
        got.content[0],
        moxxy_actors::ContentPart::RedactedThinking {
            data: "EmwK==".into()
        }
    );
}

#[test]
fn an_empty_answer_is_still_a_complete_message() {
    let body = encode_all(&[], "m");
    let sse = assert_well_formed(&body);
    assert_eq!(
        sse.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["message_start", "message_delta", "message_stop"]
    );
    assert!(!decode_all(&body)
        .iter()
        .any(|e| matches!(e, StreamEvent::Error(_))));
}
