//! Unified events → a client's SSE stream, checked by parsing it back.

use moxxy_actors::provider::openai::{Dialect, StreamEncoder};
use moxxy_actors::provider::StreamEncode;
use moxxy_actors::{ContentPart, ProviderError, StopReason, StreamEvent, ThinkingDelta, Usage};
use serde_json::{json, Value};

use crate::{accumulate, decode_all};

/// Events as an Anthropic upstream would give them: thinking, text, two tool calls, usage
/// before the stop.
fn anthropic_like_events() -> Vec<StreamEvent> {
    let call =
        |index: u32, id: Option<&str>, name: Option<&str>, args: &str| StreamEvent::ToolCallDelta {
            index,
            id: id.map(str::to_string),
            name: name.map(str::to_string),
            arguments: args.to_string(),
            extra: Default::default(),
        };
    vec![
        StreamEvent::Start {
            id: "msg_01Hq".into(),
            model: "claude-sonnet-4-5".into(),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Text("Need the weather.".into()),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Signature("EqQB".into()),
        },
        StreamEvent::TextDelta {
            index: 1,
            text: "Checking Paris.".into(),
        },
        call(2, Some("toolu_01"), Some("get_weather"), ""),
        call(2, None, None, "{\"city\": \"Pa"),
        call(3, Some("toolu_02"), Some("get_time"), "{\"zone\":\"CET\"}"),
        call(2, None, None, "ris\"}"),
        StreamEvent::Usage(Usage {
            input_tokens: 512,
            output_tokens: 89,
            cache_read_tokens: 256,
            ..Usage::default()
        }),
        StreamEvent::Stop {
            reason: StopReason::ToolUse,
            stop_sequence: None,
        },
    ]
}

fn encode(events: &[StreamEvent], include_usage: bool) -> Vec<u8> {
    let mut encoder = StreamEncoder::new("my-model", include_usage);
    let mut out = Vec::new();
    for e in events {
        encoder.encode(e, &mut out);
    }
    encoder.finish(&mut out);
    out
}

/// The JSON of every `data:` line but `[DONE]`.
fn chunks(body: &[u8]) -> Vec<Value> {
    String::from_utf8(body.to_vec())
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[test]
fn a_stream_survives_the_round_trip() {
    let body = encode(&anthropic_like_events(), true);
    let answer = accumulate(&decode_all(Dialect::OpenAi, &body));
    assert_eq!(answer.text(), "Checking Paris.");
    assert!(
        matches!(&answer.content[0], ContentPart::Thinking { text, .. } if text == "Need the weather.")
    );
    let calls: Vec<_> = answer.tool_calls().collect();
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].0, calls[0].1), ("toolu_01", "get_weather"));
    assert_eq!(*calls[0].2, json!({"city": "Paris"}));
    assert_eq!((calls[1].0, calls[1].1), ("toolu_02", "get_time"));
    assert_eq!(*calls[1].2, json!({"zone": "CET"}));
    assert_eq!(answer.stop_reason, StopReason::ToolUse);
    let usage = answer.usage.unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens
        ),
        (512, 89, 256)
    );
}

#[test]
fn chunks_have_the_shape_the_openai_sdk_expects() {
    let body = encode(&anthropic_like_events(), true);
    assert!(body.ends_with(b"data: [DONE]\n\n"));
    let chunks = chunks(&body);
    let first = &chunks[0];
    assert_eq!(
        first["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    for c in &chunks {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["id"], first["id"], "one id for the whole stream");
        assert_eq!(c["created"], first["created"]);
        assert_eq!(c["model"], "my-model");
        assert!(c["id"].as_str().unwrap().starts_with("chatcmpl-"));
    }
    // Every chunk but the last has `usage: null`; the last is usage only.
    let (last, rest) = chunks.split_last().unwrap();
    assert!(rest
        .iter()
        .all(|c| c["usage"].is_null() && c.get("usage").is_some()));
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens_details"]["cached_tokens"], 256);
    assert_eq!(last["usage"]["total_tokens"], 601);
    // Tool calls are numbered 0 and 1; the first fragment of each is a header.
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(
        *calls[0],
        json!({"index": 0, "id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": ""}})
    );
    assert!(calls.iter().all(|c| c["index"] == 0 || c["index"] == 1));
    assert_eq!(calls.iter().filter(|c| c.get("id").is_some()).count(), 2);
    let stop = chunks
        .iter()
        .find(|c| !c["choices"][0]["finish_reason"].is_null())
        .unwrap();
    assert_eq!(stop["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(stop["choices"][0]["delta"], json!({}));
}

#[test]
fn without_include_usage_no_chunk_has_a_usage_field() {
    let body = encode(&anthropic_like_events(), false);
    let chunks = chunks(&body);
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "{chunks:?}"
    );
    assert!(chunks
        .iter()
        .all(|c| c["choices"].as_array().is_some_and(|a| !a.is_empty())));
    assert!(body.ends_with(b"data: [DONE]\n\n"));
}

#[test]
fn usage_after_stop_is_still_sent_last() {
    let events = vec![
        StreamEvent::Start {
            id: "chatcmpl-x".into(),
            model: "m".into(),
        },
        StreamEvent::TextDelta {
            index: 0,
            text: "hi".into(),
        },
        StreamEvent::Stop {
            reason: StopReason::EndTurn,
            stop_sequence: None,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 3,
            output_tokens: 1,
            ..Usage::default()
        }),
    ];
    let chunks = chunks(&encode(&events, true));
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 1);
    assert_eq!(chunks[0]["id"], "chatcmpl-x");
}

#[test]
fn an_error_is_an_error_chunk_and_no_done() {
    let events = vec![
        StreamEvent::Start {
            id: "c".into(),
            model: "m".into(),
        },
        StreamEvent::TextDelta {
            index: 0,
            text: "par".into(),
        },
        StreamEvent::Error(ProviderError::rate_limited(None)),
        StreamEvent::TextDelta {
            index: 0,
            text: "ignored".into(),
        },
    ];
    let body = encode(&events, true);
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(!text.contains("[DONE]"));
    assert!(!text.contains("ignored"));
    let last = chunks(&body).pop().unwrap();
    assert_eq!(last["error"]["message"], "Rate limit exceeded");
    assert_eq!(last["error"]["code"], "rate_limit_exceeded");
    // Our own decoder reads it back as an error.
    let decoded = decode_all(Dialect::OpenAi, &body);
    assert!(
        matches!(decoded.last(), Some(StreamEvent::Error(e)) if e.kind == moxxy_actors::ErrorKind::RateLimited)
    );
}
