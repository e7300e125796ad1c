//! `StreamDecoder`: Anthropic's SSE stream to unified events.

use moxxy_actors::{ErrorKind, JsonObject, StopReason, StreamEvent, ThinkingDelta, Usage};
use serde_json::json;

use super::{accumulate, decode_all, decode_in_chunks, fixture};

const MESSAGE_START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n";

fn text_block(index: u32, text: &str) -> String {
    format!(
        "event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":{index},\"content_block\":{{\"type\":\"text\",\"text\":\"\"}}}}\n\n\
         event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":{index},\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}\n\n\
         event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":{index}}}\n\n"
    )
}

const END: &str = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":7}}\n\n\
                   event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

fn tool_delta(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta {
        index,
        id: id.map(str::to_string),
        name: name.map(str::to_string),
        arguments: arguments.to_string(),
        extra: JsonObject::new(),
    }
}

/// The events of the §1.5 example stream, exactly.
pub(super) fn example_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "msg_01Hq".into(),
            model: "claude-sonnet-4-5-20250929".into(),
        },
        StreamEvent::Usage(Usage {
            input_tokens: 512,
            output_tokens: 3,
            ..Usage::default()
        }),
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Text("Need the weather; call get_weather.".into()),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: ThinkingDelta::Signature("EqQBCkYIBxgCKkB...".into()),
        },
        StreamEvent::TextDelta {
            index: 1,
            text: "Checking Paris.".into(),
        },
        tool_delta(2, Some("toolu_01T1"), Some("get_weather"), ""),
        tool_delta(2, None, None, "{\"city\": \"Pa"),
        tool_delta(2, None, None, "ris\"}"),
        StreamEvent::Usage(Usage {
            input_tokens: 512,
            output_tokens: 89,
            ..Usage::default()
        }),
        StreamEvent::Stop {
            reason: StopReason::ToolUse,
            stop_sequence: None,
        },
    ]
}

#[test]
fn the_protocol_example_stream_decodes_to_the_exact_events() {
    let events = decode_all(&fixture("thinking_text_tool.sse"));
    assert_eq!(events, example_events());
}

#[test]
fn the_example_stream_accumulates_into_the_full_answer() {
    let response = accumulate(&decode_all(&fixture("thinking_text_tool.sse")));
    let calls: Vec<_> = response.tool_calls().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "toolu_01T1");
    assert_eq!(calls[0].1, "get_weather");
    assert_eq!(calls[0].2, &json!({"city": "Paris"}));
    assert_eq!(
        response.content[0],
        moxxy_actors::ContentPart::Thinking {
            text: "Need the weather; call get_weather.".into(),
            signature: Some("EqQBCkYIBxgCKkB...".into()),
        }
    );
    assert_eq!(response.text(), "Checking Paris.");
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(response.usage.unwrap().output_tokens, 89);
    assert_eq!(response.id, "msg_01Hq");
}

#[test]
fn a_stream_fed_one_byte_at_a_time_gives_the_same_events() {
    let body = fixture("thinking_text_tool.sse");
    assert_eq!(decode_in_chunks(&body, 1), example_events());
    assert_eq!(decode_in_chunks(&body, 7), example_events());
}

#[test]
fn crlf_framing_gives_the_same_events() {
    let body = String::from_utf8(fixture("thinking_text_tool.sse"))
        .unwrap()
        .replace('\n', "\r\n");
    assert_eq!(decode_in_chunks(body.as_bytes(), 3), example_events());
}

#[test]
fn pings_comments_and_unknown_events_and_deltas_are_ignored() {
    let plain = format!("{MESSAGE_START}{}{END}", text_block(0, "hi"));
    let noisy = format!(
        "event: ping\ndata: {{\"type\":\"ping\"}}\n\n{MESSAGE_START}: a comment\n\n\
         event: ping\ndata: {{\"type\":\"ping\"}}\n\n\
         event: brand_new_event\ndata: {{\"type\":\"brand_new_event\",\"x\":1}}\n\n\
         event: keepalive\ndata: not json at all\n\n\
         event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"citations_delta\",\"citation\":{{}}}}}}\n\n\
         event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"future_delta\",\"v\":2}}}}\n\n\
         {}event: ping\ndata: {{\"type\":\"ping\"}}\n\n{END}",
        text_block(0, "hi")
    );
    let expected = decode_all(plain.as_bytes());
    assert_eq!(expected.len(), 5, "{expected:?}");
    assert_eq!(decode_all(noisy.as_bytes()), expected);
}

#[test]
fn an_error_event_mid_stream_ends_the_stream_with_its_kind() {
    let body = format!(
        "{MESSAGE_START}{}event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}}}\n\n{}",
        text_block(0, "partial"),
        text_block(1, "never seen")
    );
    let events = decode_all(body.as_bytes());
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(
        events[2],
        StreamEvent::TextDelta {
            index: 0,
            text: "partial".into()
        }
    );
    let StreamEvent::Error(error) = &events[3] else {
        panic!("expected an error, got {:?}", events[3]);
    };
    assert_eq!(error.kind, ErrorKind::Overloaded);
    assert_eq!(error.message, "Overloaded");
    assert_eq!(error.upstream_type.as_deref(), Some("overloaded_error"));
    assert!(error.is_retryable());
}

#[test]
fn error_events_map_to_the_documented_kinds() {
    let cases = [
        (
            "rate_limit_error",
            ErrorKind::RateLimited,
            "Rate limit exceeded",
        ),
        (
            "authentication_error",
            ErrorKind::Authentication,
            "Authentication failed - check your API key",
        ),
        ("api_error", ErrorKind::Upstream, "boom"),
        ("invalid_request_error", ErrorKind::InvalidRequest, "boom"),
        ("something_new", ErrorKind::Upstream, "boom"),
    ];
    for (kind, expected, message) in cases {
        let body = format!(
            "{MESSAGE_START}event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"{kind}\",\"message\":\"boom\"}}}}\n\n"
        );
        let events = decode_all(body.as_bytes());
        let Some(StreamEvent::Error(error)) = events.last() else {
            panic!("{kind}: {events:?}");
        };
        assert_eq!(error.kind, expected, "{kind}");
        assert_eq!(error.message, message, "{kind}");
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, StreamEvent::Error(_)))
                .count(),
            1
        );
    }
}

#[test]
fn a_stream_cut_before_message_stop_ends_with_an_upstream_error() {
    let full = String::from_utf8(fixture("thinking_text_tool.sse")).unwrap();
    let cut = full.split("event: message_stop").next().unwrap();
    let events = decode_all(cut.as_bytes());
    // Everything that arrived is kept, Stop included; then the error.
    assert_eq!(&events[..events.len() - 1], &example_events()[..]);
    let Some(StreamEvent::Error(error)) = events.last() else {
        panic!("no error: {events:?}");
    };
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert!(error.message.contains("message_stop"), "{}", error.message);

    let mid_block = &full[..full.find("ris").unwrap()];
    let events = decode_all(mid_block.as_bytes());
    assert!(matches!(events.last(), Some(StreamEvent::Error(_))));
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Stop { .. })));
}

#[test]
fn an_empty_body_is_a_truncated_stream() {
    let events = decode_all(b"");
    assert_eq!(events.len(), 1);
    assert!(matches!(&events[0], StreamEvent::Error(e) if e.kind == ErrorKind::Upstream));
}

#[test]
fn a_known_event_that_is_not_json_is_an_error() {
    let body = format!(
        "{MESSAGE_START}event: content_block_delta\ndata: {{\"type\":\"content_blo\n\n{END}"
    );
    let events = decode_all(body.as_bytes());
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(&events[2], StreamEvent::Error(e) if e.kind == ErrorKind::Upstream));
}

#[test]
fn usage_adds_cache_reads_and_writes_to_the_input_and_keeps_them_across_deltas() {
    let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"model\":\"m\",\"usage\":{\"input_tokens\":100,\"cache_creation_input_tokens\":200,\"cache_read_input_tokens\":300,\"output_tokens\":1}}}\n\n\
                event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},\"usage\":{\"output_tokens\":20}}\n\n\
                event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":50,\"cache_read_input_tokens\":310,\"input_tokens\":null}}\n\n\
                event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let events = decode_all(body.as_bytes());
    let usages: Vec<Usage> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Usage(u) => Some(*u),
            _ => None,
        })
        .collect();
    assert_eq!(
        usages[0],
        Usage {
            input_tokens: 600,
            output_tokens: 1,
            cache_read_tokens: 300,
            cache_write_tokens: 200,
            reasoning_tokens: 0,
        }
    );
    assert_eq!(usages[1].input_tokens, 600);
    assert_eq!(usages[1].output_tokens, 20);
    // Overwritten, not added; a null count keeps the earlier one.
    assert_eq!(
        usages[2],
        Usage {
            input_tokens: 610,
            output_tokens: 50,
            cache_read_tokens: 310,
            cache_write_tokens: 200,
            reasoning_tokens: 0,
        }
    );
    // A message_delta without a stop reason does not stop the answer.
    let stops: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Stop { .. }))
        .collect();
    assert_eq!(stops.len(), 1);
    assert!(matches!(
        stops[0],
        StreamEvent::Stop {
            reason: StopReason::MaxTokens,
            ..
        }
    ));
}

#[test]
fn redacted_thinking_and_a_signed_thinking_start_are_kept_opaque() {
    let body = format!(
        "{MESSAGE_START}event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{{\"type\":\"redacted_thinking\",\"data\":\"EmwKAhgBEgy3va==\"}}}}\n\n\
         event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":0}}\n\n\
         event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}}}\n\n\
         event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}}}\n\n\
         event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{{\"type\":\"signature_delta\",\"signature\":\"sig+/=\"}}}}\n\n\
         event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":1}}\n\n{END}"
    );
    let response = accumulate(&decode_all(body.as_bytes()));
    assert_eq!(
        response.content,
        vec![
            moxxy_actors::ContentPart::RedactedThinking {
                data: "EmwKAhgBEgy3va==".into()
            },
            moxxy_actors::ContentPart::Thinking {
                text: "hm".into(),
                signature: Some("sig+/=".into())
            },
        ]
    );
}

#[test]
fn nothing_is_emitted_after_message_stop() {
    let body = format!(
        "{MESSAGE_START}{}{END}{}",
        text_block(0, "a"),
        text_block(1, "late")
    );
    let events = decode_all(body.as_bytes());
    assert!(!events
        .iter()
        .any(|e| matches!(e, StreamEvent::TextDelta { text, .. } if text == "late")));
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Error(_))));
}

#[test]
fn server_tool_blocks_and_their_deltas_are_skipped() {
    let body = format!(
        "{MESSAGE_START}event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{{}}}}}}\n\n\
         event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"input_json_delta\",\"partial_json\":\"{{\\\"query\\\":\\\"x\\\"}}\"}}}}\n\n\
         event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":0}}\n\n\
         event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{{\"type\":\"web_search_tool_result\",\"tool_use_id\":\"srvtoolu_1\",\"content\":[]}}}}\n\n\
         event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":1}}\n\n{}{END}",
        text_block(2, "Found it.")
    );
    let events = decode_all(body.as_bytes());
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, StreamEvent::ToolCallDelta { .. })),
        "{events:?}"
    );
    let response = accumulate(&events);
    assert_eq!(
        response.content,
        vec![moxxy_actors::ContentPart::text("Found it.")]
    );
}

#[test]
fn parallel_tool_calls_are_kept_apart_by_block_index() {
    let tool = |index: u32, id: &str, args: &[&str]| {
        let mut out = format!(
            "event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":{index},\"content_block\":{{\"type\":\"tool_use\",\"id\":\"{id}\",\"name\":\"f\",\"input\":{{}}}}}}\n\n"
        );
        for arg in args {
            let delta = json!({"type": "content_block_delta", "index": index,
                               "delta": {"type": "input_json_delta", "partial_json": arg}});
            out.push_str(&format!("event: content_block_delta\ndata: {delta}\n\n"));
        }
        out + &format!("event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":{index}}}\n\n")
    };
    let body = format!(
        "{MESSAGE_START}{}{}{END}",
        tool(0, "toolu_a", &["{\"n\":", "1}"]),
        tool(1, "toolu_b", &["{\"n\":", "2}"])
    );
    let response = accumulate(&decode_all(body.as_bytes()));
    let calls: Vec<_> = response
        .tool_calls()
        .map(|(id, _, a)| (id, a.clone()))
        .collect();
    assert_eq!(
        calls,
        vec![("toolu_a", json!({"n": 1})), ("toolu_b", json!({"n": 2}))]
    );
}
