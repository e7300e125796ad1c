//! Ollama's NDJSON stream -> unified events (PROTOCOLS.md §3.4–3.6, §4.5 NDJSON rules).

use moxxy_actors::{ContentPart, ErrorKind, StopReason, StreamEvent, ThinkingDelta, Usage};

use super::{accumulate, decode_stream};

/// PROTOCOLS.md §3.4, verbatim.
const SKY: &str = concat!(
    r#"{"model":"llama3.2","created_at":"2025-07-07T20:22:19.18Z","message":{"role":"assistant","content":"The"},"done":false}"#,
    "\n",
    r#"{"model":"llama3.2","created_at":"2025-07-07T20:22:19.20Z","message":{"role":"assistant","content":" sky"},"done":false}"#,
    "\n",
    r#"{"model":"llama3.2","created_at":"2025-07-07T20:22:19.41Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
    "\n",
);

/// Text with multi-byte characters, a thinking part and the end, for split tests.
const UNICODE: &str = concat!(
    r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Réfléchir 🤔"},"done":false}"#,
    "\n",
    r#"{"model":"qwen3","message":{"role":"assistant","content":"Café "},"done":false}"#,
    "\n",
    r#"{"model":"qwen3","message":{"role":"assistant","content":"🙂 é"},"done":false}"#,
    "\n",
    r#"{"model":"qwen3","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":4}"#,
    "\n",
);

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

fn text(index: u32, text: &str) -> StreamEvent {
    StreamEvent::TextDelta {
        index,
        text: text.into(),
    }
}

fn error_of(events: &[StreamEvent]) -> &moxxy_actors::ProviderError {
    match events.last() {
        Some(StreamEvent::Error(e)) => e,
        other => panic!("expected a final error, got {other:?}"),
    }
}

#[test]
fn the_reference_stream_decodes_exactly() {
    let events = decode_stream(&[SKY.as_bytes()]);
    assert_eq!(
        events,
        [
            StreamEvent::Start {
                id: String::new(),
                model: "llama3.2".into()
            },
            text(0, "The"),
            text(0, " sky"),
            usage(26, 282),
            stop(StopReason::EndTurn),
        ]
    );
    let resp = accumulate(&events).unwrap();
    assert_eq!(resp.text(), "The sky");
    assert_eq!(resp.content.len(), 1);
    assert_eq!(resp.stop_reason, StopReason::EndTurn);
    assert_eq!(
        resp.usage.map(|u| (u.input_tokens, u.output_tokens)),
        Some((26, 282))
    );
}

#[test]
fn byte_at_a_time_gives_the_same_events() {
    for body in [SKY, UNICODE] {
        let whole = decode_stream(&[body.as_bytes()]);
        let bytes: Vec<&[u8]> = body.as_bytes().chunks(1).collect();
        assert_eq!(decode_stream(&bytes), whole);
    }
}

#[test]
fn every_split_point_even_inside_a_character_gives_the_same_events() {
    let body = UNICODE.as_bytes();
    let whole = decode_stream(&[body]);
    let resp = accumulate(&whole).unwrap();
    assert_eq!(resp.text(), "Café 🙂 é");
    assert_eq!(
        resp.content[0],
        ContentPart::Thinking {
            text: "Réfléchir 🤔".into(),
            signature: None
        }
    );
    let mut inside_a_char = 0;
    for at in 1..body.len() {
        if !UNICODE.is_char_boundary(at) {
            inside_a_char += 1;
        }
        assert_eq!(
            decode_stream(&[&body[..at], &body[at..]]),
            whole,
            "split at {at}"
        );
    }
    assert!(
        inside_a_char >= 9,
        "the body must have multi-byte characters"
    );
}

#[test]
fn crlf_line_ends_blank_lines_and_a_missing_last_newline_are_fine() {
    let crlf = format!("\r\n\r\n{}\r\n   \n", SKY.replace('\n', "\r\n\r\n"));
    assert_eq!(
        decode_stream(&[crlf.as_bytes()]),
        decode_stream(&[SKY.as_bytes()])
    );
    let unterminated = SKY.trim_end_matches('\n');
    assert_eq!(
        decode_stream(&[unterminated.as_bytes()]),
        decode_stream(&[SKY.as_bytes()])
    );
}

#[test]
fn tool_calls_arrive_whole_and_end_in_tool_use() {
    // PROTOCOLS.md §3.5, plus a second call in the same chunk and one without an id.
    let body = concat!(
        r#"{"model":"qwen3","created_at":"2025-07-07T20:32:53.84Z","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_k3j9x2ab","function":{"index":0,"name":"get_weather","arguments":{"city":"Tokyo"}}},{"function":{"index":1,"name":"get_time","arguments":{"zone":"JST","fmt":"24h"}}}]},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-07-07T20:32:54.01Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":90,"eval_count":30}"#,
        "\n"
    );
    let events = decode_stream(&[body.as_bytes()]);
    assert_eq!(
        events[1],
        StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("call_k3j9x2ab".into()),
            name: Some("get_weather".into()),
            arguments: r#"{"city":"Tokyo"}"#.into(),
            extra: Default::default(),
        }
    );
    let StreamEvent::ToolCallDelta {
        index: 1,
        id: Some(id),
        arguments,
        ..
    } = &events[2]
    else {
        panic!("expected the second call, got {:?}", events[2]);
    };
    assert!(id.starts_with("call_"), "{id}");
    // Key order is kept.
    assert_eq!(arguments, r#"{"zone":"JST","fmt":"24h"}"#);
    assert_eq!(events[3..], [usage(90, 30), stop(StopReason::ToolUse)]);

    let resp = accumulate(&events).unwrap();
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    let calls: Vec<_> = resp.tool_calls().collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].2, &serde_json::json!({"city": "Tokyo"}));
    assert_eq!(calls[1].1, "get_time");
    assert!(calls[1].2.is_object());
}

#[test]
fn thinking_and_text_are_parts_in_order_of_first_appearance() {
    let body = concat!(
        r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Let me"},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":" think."},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","message":{"role":"assistant","content":"Answer"},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{}}}]},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}"#,
        "\n"
    );
    let events = decode_stream(&[body.as_bytes()]);
    assert_eq!(
        events[1..4],
        [
            StreamEvent::ThinkingDelta {
                index: 0,
                delta: ThinkingDelta::Text("Let me".into())
            },
            StreamEvent::ThinkingDelta {
                index: 0,
                delta: ThinkingDelta::Text(" think.".into())
            },
            text(1, "Answer"),
        ]
    );
    assert!(matches!(
        events[4],
        StreamEvent::ToolCallDelta { index: 2, .. }
    ));
    // Counts left out by the server are zero, but usage is reported.
    assert_eq!(events[5..], [usage(0, 0), stop(StopReason::ToolUse)]);
    let resp = accumulate(&events).unwrap();
    assert!(
        matches!(&resp.content[0], ContentPart::Thinking { text, .. } if text == "Let me think.")
    );
    assert_eq!(resp.content[1], ContentPart::text("Answer"));
}

#[test]
fn length_is_max_tokens() {
    let body = r#"{"model":"m","message":{"role":"assistant","content":"cut"},"done":true,"done_reason":"length","eval_count":8}"#;
    let events = decode_stream(&[body.as_bytes()]);
    assert_eq!(
        events[1..],
        [text(0, "cut"), usage(0, 8), stop(StopReason::MaxTokens)]
    );
}

#[test]
fn a_mid_stream_error_line_ends_the_stream() {
    let body = concat!(
        r#"{"model":"m","message":{"role":"assistant","content":"Hel"},"done":false}"#,
        "\n",
        r#"{"error":"an error was encountered while running the model"}"#,
        "\n",
        r#"{"model":"m","message":{"role":"assistant","content":"lo"},"done":false}"#,
        "\n",
        r#"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}"#,
        "\n"
    );
    let events = decode_stream(&[body.as_bytes()]);
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[1], text(0, "Hel"));
    let err = error_of(&events);
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(
        err.message.contains("an error was encountered"),
        "{}",
        err.message
    );
    assert!(accumulate(&events).is_err());
}

#[test]
fn an_error_as_the_first_line_is_the_only_event() {
    let events = decode_stream(&[br#"{"error":"model \"x\" not found, try pulling it first"}"#]);
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(error_of(&events).message.contains("try pulling it first"));
}

#[test]
fn a_stream_cut_before_done_is_an_error() {
    let cut = SKY.lines().take(2).collect::<Vec<_>>().join("\n");
    let events = decode_stream(&[cut.as_bytes()]);
    assert_eq!(events[1..3], [text(0, "The"), text(0, " sky")]);
    let err = error_of(&events);
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert_eq!(err.message, "the stream from Ollama ended before done");
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Stop { .. })));

    // An empty body, and a body cut inside a line, too.
    assert_eq!(decode_stream(&[]).len(), 1);
    let half = &SKY.as_bytes()[..40];
    let events = decode_stream(&[half]);
    assert_eq!(events.len(), 1);
    assert_eq!(error_of(&events).kind, ErrorKind::Upstream);
}

#[test]
fn load_and_unload_are_not_completions() {
    for reason in ["load", "unload"] {
        let body = format!(
            r#"{{"model":"m","message":{{"role":"assistant","content":""}},"done":true,"done_reason":"{reason}"}}"#
        );
        let events = decode_stream(&[body.as_bytes()]);
        assert_eq!(events.len(), 1, "{events:?}");
        let err = error_of(&events);
        assert_eq!(err.kind, ErrorKind::Upstream);
        assert!(
            err.message.contains(&format!("{reason}ed the model")),
            "{}",
            err.message
        );
        assert!(err.message.contains("no completion"), "{}", err.message);
    }
}

#[test]
fn a_line_that_is_not_json_is_an_error() {
    let body =
        "{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}\n<html>oops</html>\n";
    let events = decode_stream(&[body.as_bytes()]);
    assert_eq!(events.len(), 3);
    assert!(error_of(&events).message.contains("<html>oops</html>"));
}
