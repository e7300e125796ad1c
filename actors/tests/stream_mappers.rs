//! The three stream mappers (upstream body → unified events) and the two client encoders
//! (unified events → OpenAI or Anthropic stream), by property: the same rules the fuzz targets
//! in `fuzz/` check, run in CI on random inputs.
//!
//! - Random answers (text, reasoning and tool calls with fragmented arguments, usage, a stop),
//!   written in each protocol's wire format and read back cut at random points, give the same
//!   events as the whole body and the same answer as was written.
//! - Any bytes, and real streams with random damage, cut anywhere, give the same events as the
//!   whole body; the events keep the stream rules and encode into well-formed client streams.
//! - Any sequence of events, even one no decoder should produce, encodes into well-formed client
//!   streams.
//!
//! At the end: regression tests for what fuzzing found.
#![allow(clippy::unwrap_used)]

#[path = "support/stream_checks.rs"]
mod stream_checks;

use moxxy_actors::provider::{anthropic, ollama, openai, StreamDecode, StreamEncode};
use moxxy_actors::{
    ErrorKind, JsonObject, ProviderError, StopReason, StreamAccumulator, StreamEvent,
    ThinkingDelta, Usage,
};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use stream_checks::{canonical_ids, check_client_streams, check_events};

/// The wire protocols, each with its upstream decoder and its encoder of the same format.
#[derive(Debug, Clone, Copy)]
enum Proto {
    OpenAi,
    Anthropic,
    Ollama,
}

const PROTOS: [Proto; 3] = [Proto::OpenAi, Proto::Anthropic, Proto::Ollama];

impl Proto {
    fn decoder(self) -> Box<dyn StreamDecode> {
        match self {
            Proto::OpenAi => Box::new(openai::StreamDecoder::new(openai::Dialect::OpenAi)),
            Proto::Anthropic => Box::new(anthropic::StreamDecoder::new()),
            Proto::Ollama => Box::new(ollama::StreamDecoder::new()),
        }
    }

    /// `events` in this protocol's wire format, as an upstream would send them.
    fn wire(self, events: &[StreamEvent]) -> Vec<u8> {
        match self {
            Proto::OpenAi => encode(openai::StreamEncoder::new("m", true), events),
            Proto::Anthropic => encode(anthropic::StreamEncoder::new("m"), events),
            Proto::Ollama => encode(ollama::StreamEncoder::new("m"), events),
        }
    }
}

fn encode(mut encoder: impl StreamEncode, events: &[StreamEvent]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    encoder.finish(&mut out);
    out
}

fn decode(proto: Proto, reads: &[&[u8]]) -> Vec<StreamEvent> {
    let mut decoder = proto.decoder();
    let mut events = Vec::new();
    for read in reads {
        decoder.feed(read, &mut events);
    }
    decoder.finish(&mut events);
    events
}

/// `bytes` cut at `cuts` (positions taken modulo the length, in order).
fn split<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut reads = Vec::new();
    let mut from = 0;
    for point in points {
        reads.push(&bytes[from..point]);
        from = point;
    }
    reads.push(&bytes[from..]);
    reads
}

/// Text that stresses escaping and splitting: quotes, backslashes, line ends, multi-byte
/// characters.
const TEXT: &str = "[a-zA-Z0-9 \"\\\\\n\r\té🙂中]{1,8}";

/// One part of a generated answer.
#[derive(Debug, Clone)]
enum Part {
    Text(Vec<String>),
    Thinking(Vec<String>),
    /// A tool call: its arguments object, streamed in fragments cut at these points.
    Tool(Value, Vec<Index>),
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        prop::collection::vec(TEXT, 1..4).prop_map(Part::Text),
        prop::collection::vec(TEXT, 1..4).prop_map(Part::Thinking),
        (
            any::<i64>(),
            TEXT,
            prop::collection::vec(any::<Index>(), 0..4)
        )
            .prop_map(|(n, s, cuts)| Part::Tool(json!({"n": n, "s": s}), cuts)),
    ]
}

/// The events of an answer made of `parts`, each its own content part, then usage and a stop.
fn answer_events(parts: &[Part]) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::Start {
        id: "msg_1".into(),
        model: "m".into(),
    }];
    let mut tools = 0;
    for (index, part) in parts.iter().enumerate() {
        let index = u32::try_from(index).unwrap();
        match part {
            Part::Text(pieces) => events.extend(pieces.iter().map(|text| StreamEvent::TextDelta {
                index,
                text: text.clone(),
            })),
            Part::Thinking(pieces) => {
                events.extend(pieces.iter().map(|text| StreamEvent::ThinkingDelta {
                    index,
                    delta: ThinkingDelta::Text(text.clone()),
                }))
            }
            Part::Tool(arguments, cuts) => {
                let text = arguments.to_string();
                // Cut on character boundaries only: a fragment is text.
                let mut points: Vec<usize> = cuts
                    .iter()
                    .map(|c| {
                        let mut at = c.index(text.len() + 1);
                        while !text.is_char_boundary(at) {
                            at -= 1;
                        }
                        at
                    })
                    .collect();
                points.sort_unstable();
                points.push(text.len());
                let mut from = 0;
                let mut first = true;
                for point in points {
                    let piece = &text[from..point];
                    from = point;
                    events.push(StreamEvent::ToolCallDelta {
                        index,
                        id: first.then(|| format!("call_{tools}")),
                        name: first.then(|| format!("tool_{tools}")),
                        arguments: piece.to_string(),
                        extra: JsonObject::new(),
                    });
                    first = false;
                }
                tools += 1;
            }
        }
    }
    let stop = if tools > 0 {
        StopReason::ToolUse
    } else {
        StopReason::EndTurn
    };
    events.push(StreamEvent::Usage(Usage {
        input_tokens: 7,
        output_tokens: 5,
        ..Usage::default()
    }));
    events.push(StreamEvent::Stop {
        reason: stop,
        stop_sequence: None,
    });
    events
}

/// What a client ends up with: all text, all reasoning, and each tool call's name and
/// arguments.
fn outcome(events: &[StreamEvent]) -> (String, String, Vec<(String, Value)>) {
    let mut acc = StreamAccumulator::new();
    for event in events {
        acc.push(event);
    }
    let answer = acc.finish().unwrap();
    let thinking = answer
        .content
        .iter()
        .filter_map(|p| match p {
            moxxy_actors::ContentPart::Thinking { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let tools = answer
        .tool_calls()
        .map(|(_, name, args)| (name.to_string(), args.clone()))
        .collect();
    (answer.text(), thinking, tools)
}

/// The outcome `parts` mean.
fn expected(parts: &[Part]) -> (String, String, Vec<(String, Value)>) {
    let mut text = String::new();
    let mut thinking = String::new();
    let mut tools = Vec::new();
    for part in parts {
        match part {
            Part::Text(pieces) => text.push_str(&pieces.concat()),
            Part::Thinking(pieces) => thinking.push_str(&pieces.concat()),
            Part::Tool(arguments, _) => {
                tools.push((format!("tool_{}", tools.len()), arguments.clone()))
            }
        }
    }
    (text, thinking, tools)
}

/// Random damage to a body: a flipped byte, a removed range, a repeated range.
#[derive(Debug, Clone)]
enum Damage {
    Flip(Index, u8),
    Remove(Index, usize),
    Repeat(Index, usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Damage::Flip(at, b)),
        (any::<Index>(), 1usize..40).prop_map(|(at, n)| Damage::Remove(at, n)),
        (any::<Index>(), 1usize..120).prop_map(|(at, n)| Damage::Repeat(at, n)),
    ]
}

fn apply(mut body: Vec<u8>, damage: &[Damage]) -> Vec<u8> {
    for d in damage {
        if body.is_empty() {
            break;
        }
        match d {
            Damage::Flip(at, byte) => {
                let at = at.index(body.len());
                body[at] ^= byte | 1;
            }
            Damage::Remove(at, n) => {
                let at = at.index(body.len());
                let end = (at + n).min(body.len());
                body.drain(at..end);
            }
            Damage::Repeat(at, n) => {
                let at = at.index(body.len());
                let end = (at + n).min(body.len());
                let copy = body[at..end].to_vec();
                body.splice(at..at, copy);
            }
        }
    }
    body
}

/// A random event, including ones no decoder emits in that place (content after a stop, a
/// second start, an index reused by another kind of part).
fn event() -> impl Strategy<Value = StreamEvent> {
    let index = 0u32..4;
    prop_oneof![
        Just(StreamEvent::Start {
            id: "msg_x".into(),
            model: "m".into()
        }),
        (index.clone(), TEXT).prop_map(|(index, text)| StreamEvent::TextDelta { index, text }),
        (index.clone(), TEXT).prop_map(|(index, t)| StreamEvent::ThinkingDelta {
            index,
            delta: ThinkingDelta::Text(t)
        }),
        (index.clone(), "[a-zA-Z0-9]{0,6}").prop_map(|(index, s)| StreamEvent::ThinkingDelta {
            index,
            delta: ThinkingDelta::Signature(s)
        }),
        (
            index,
            proptest::option::of("[a-z_]{1,6}"),
            proptest::option::of("[a-z]{1,6}"),
            "[{}\":a-z0-9]{0,8}"
        )
            .prop_map(|(index, id, name, arguments)| StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                arguments,
                extra: JsonObject::new(),
            }),
        (0u64..100, 0u64..100).prop_map(|(i, o)| StreamEvent::Usage(Usage {
            input_tokens: i,
            output_tokens: o,
            ..Usage::default()
        })),
        prop_oneof![
            Just(StopReason::EndTurn),
            Just(StopReason::ToolUse),
            Just(StopReason::MaxTokens)
        ]
        .prop_map(|reason| StreamEvent::Stop {
            reason,
            stop_sequence: None
        }),
        Just(StreamEvent::Error(ProviderError::new(
            ErrorKind::Upstream,
            "boom"
        ))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_answers_read_back_the_same_whatever_the_cuts(
        parts in prop::collection::vec(part(), 1..5),
        cuts in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let events = answer_events(&parts);
        for proto in PROTOS {
            let body = proto.wire(&events);
            let whole = decode(proto, &[&body]);
            let split = decode(proto, &split(&body, &cuts));
            prop_assert_eq!(canonical_ids(&split), canonical_ids(&whole), "{:?}", proto);
            prop_assert!(
                !whole.iter().any(|e| matches!(e, StreamEvent::Error(_))),
                "{:?}: {:?}", proto, whole
            );
            check_events(&whole);
            prop_assert_eq!(outcome(&whole), expected(&parts), "{:?}", proto);
        }
    }

    #[test]
    fn damaged_streams_decode_the_same_whatever_the_cuts(
        parts in prop::collection::vec(part(), 1..4),
        damage in prop::collection::vec(damage(), 1..4),
        cuts in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let events = answer_events(&parts);
        for proto in PROTOS {
            let body = apply(proto.wire(&events), &damage);
            let whole = decode(proto, &[&body]);
            let split = decode(proto, &split(&body, &cuts));
            prop_assert_eq!(canonical_ids(&split), canonical_ids(&whole), "{:?}", proto);
            check_events(&whole);
            check_client_streams(&whole);
        }
    }

    #[test]
    fn arbitrary_bytes_decode_the_same_whatever_the_cuts(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        for proto in PROTOS {
            let whole = decode(proto, &[&bytes]);
            let split = decode(proto, &split(&bytes, &cuts));
            prop_assert_eq!(canonical_ids(&split), canonical_ids(&whole), "{:?}", proto);
            check_events(&whole);
            // Without its terminator a stream always ends with one error.
            prop_assert!(matches!(whole.last(), Some(StreamEvent::Error(_))), "{:?}", proto);
            check_client_streams(&whole);
        }
    }

    #[test]
    fn any_event_sequence_encodes_into_well_formed_client_streams(
        events in prop::collection::vec(event(), 0..16),
    ) {
        check_client_streams(&events);
    }
}

// Regressions found by fuzzing (`fuzz/`, target `stream_anthropic`).

/// A relay sent content and a second stop reason after `message_delta`: the decoder passed them
/// on, and the Anthropic encoder then opened a block after `message_delta` (and wrote a second
/// `message_delta` inside it); the OpenAI encoder wrote a second `finish_reason`.
#[test]
fn content_after_the_stop_reason_is_not_part_of_the_answer() {
    let body = concat!(
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":89}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"late\"}}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":90}}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );
    let events = decode(Proto::Anthropic, &[body.as_bytes()]);
    let stop = events
        .iter()
        .position(|e| matches!(e, StreamEvent::Stop { .. }))
        .unwrap();
    assert!(
        matches!(
            &events[stop],
            StreamEvent::Stop {
                reason: StopReason::ToolUse,
                ..
            }
        ),
        "{events:?}"
    );
    // Only the usage update follows the stop.
    assert!(
        matches!(&events[stop + 1..], [StreamEvent::Usage(u)] if u.output_tokens == 90),
        "{events:?}"
    );
    check_events(&events);
    check_client_streams(&events);
}

/// The encoders themselves drop what comes after `Stop` (but usage), whatever the source.
#[test]
fn encoders_drop_content_after_stop() {
    let events = [
        StreamEvent::TextDelta {
            index: 0,
            text: "Hi".into(),
        },
        StreamEvent::Stop {
            reason: StopReason::EndTurn,
            stop_sequence: None,
        },
        StreamEvent::TextDelta {
            index: 1,
            text: "late".into(),
        },
        StreamEvent::Stop {
            reason: StopReason::MaxTokens,
            stop_sequence: None,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 1,
            output_tokens: 2,
            ..Usage::default()
        }),
    ];
    check_client_streams(&events);
    let anthropic = String::from_utf8(encode(anthropic::StreamEncoder::new("m"), &events)).unwrap();
    let openai = String::from_utf8(encode(openai::StreamEncoder::new("m", true), &events)).unwrap();
    for body in [&anthropic, &openai] {
        assert!(!body.contains("late"), "{body}");
        assert!(
            !body.contains("max_tokens") && !body.contains("\"length\""),
            "{body}"
        );
    }
    assert!(anthropic.contains("\"output_tokens\":2"), "{anthropic}");
    assert!(openai.contains("\"completion_tokens\":2"), "{openai}");
}

/// Found by the second fuzzing run: a relay that sent `message_start` after the stop reason
/// (a late first one, or a second one) gave a `Start` after `Stop`.
#[test]
fn a_message_start_after_the_stop_reason_is_not_a_second_answer() {
    let start = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":3}}}\n\n",
    );
    let answer = concat!(
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n",
    );
    let stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    for (starts, body) in [
        (1, format!("{start}{answer}{start}{stop}")),
        (0, format!("{answer}{start}{stop}")),
    ] {
        let events = decode(Proto::Anthropic, &[body.as_bytes()]);
        let seen = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Start { .. }))
            .count();
        assert_eq!(seen, starts, "{events:?}");
        assert!(
            matches!(events.last(), Some(StreamEvent::Stop { .. })),
            "{events:?}"
        );
        check_events(&events);
        check_client_streams(&events);
    }
}
