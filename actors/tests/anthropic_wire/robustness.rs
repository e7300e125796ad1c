//! Properties: any split of a stream decodes the same, no input makes a decoder panic, and any
//! interleaving of parts gives a well-formed Anthropic stream that loses no tool call.

use std::collections::HashMap;

use moxxy_actors::provider::anthropic::{
    decode_error, decode_request, decode_response, StreamDecoder,
};
use moxxy_actors::provider::StreamDecode;
use moxxy_actors::{JsonObject, StopReason, StreamEvent, Usage};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

use super::roundtrip::assert_well_formed;
use super::stream::example_events;
use super::{accumulate, decode_all, encode_all, fixture};

/// One part of a generated answer, as the fragments it streams in.
#[derive(Debug, Clone)]
enum Source {
    Text(Vec<String>),
    Tool(Vec<String>),
}

fn source() -> impl Strategy<Value = Source> {
    prop_oneof![
        prop::collection::vec("[a-z ]{1,6}", 1..4).prop_map(Source::Text),
        (
            0u32..1000,
            "[a-z]{0,6}",
            prop::collection::vec(any::<Index>(), 0..3)
        )
            .prop_map(|(n, s, cuts)| {
                let args = json!({"n": n, "s": s}).to_string();
                let mut points: Vec<usize> = cuts.iter().map(|c| c.index(args.len())).collect();
                points.sort_unstable();
                points.dedup();
                let mut pieces = Vec::new();
                let mut from = 0;
                for point in points.into_iter().chain([args.len()]) {
                    if point > from {
                        pieces.push(args[from..point].to_string());
                        from = point;
                    }
                }
                Source::Tool(pieces)
            }),
    ]
}

/// The events of the sources interleaved in the order `picks` says, numbered by first
/// appearance as the OpenAI and Ollama mappers do; and the tool calls' complete arguments.
fn interleave(sources: &[Source], picks: &[Index]) -> (Vec<StreamEvent>, HashMap<String, Value>) {
    let mut next = vec![0usize; sources.len()];
    let mut numbers: HashMap<usize, u32> = HashMap::new();
    let mut events = vec![StreamEvent::Start {
        id: "chatcmpl-p".into(),
        model: "m".into(),
    }];
    let remaining = |next: &[usize]| -> Vec<usize> {
        (0..sources.len())
            .filter(|&s| {
                next[s]
                    < match &sources[s] {
                        Source::Text(p) | Source::Tool(p) => p.len(),
                    }
            })
            .collect()
    };
    let mut picks = picks.iter();
    loop {
        let open = remaining(&next);
        let Some(&s) = (match picks.next() {
            Some(pick) if !open.is_empty() => open.get(pick.index(open.len())),
            _ => open.first(),
        }) else {
            break;
        };
        let fresh = numbers.len() as u32;
        let index = *numbers.entry(s).or_insert(fresh);
        let first = next[s] == 0;
        events.push(match &sources[s] {
            Source::Text(pieces) => StreamEvent::TextDelta {
                index,
                text: pieces[next[s]].clone(),
            },
            Source::Tool(pieces) => StreamEvent::ToolCallDelta {
                index,
                id: first.then(|| format!("call_{s}")),
                name: first.then(|| "f".to_string()),
                arguments: pieces[next[s]].clone(),
                extra: JsonObject::new(),
            },
        });
        next[s] += 1;
    }
    events.push(StreamEvent::Stop {
        reason: StopReason::ToolUse,
        stop_sequence: None,
    });
    events.push(StreamEvent::Usage(Usage {
        input_tokens: 3,
        output_tokens: 4,
        ..Usage::default()
    }));
    let calls = sources
        .iter()
        .enumerate()
        .filter_map(|(s, source)| match source {
            Source::Tool(pieces) => Some((
                format!("call_{s}"),
                serde_json::from_str(&pieces.concat()).unwrap(),
            )),
            Source::Text(_) => None,
        })
        .collect();
    (events, calls)
}

proptest! {
    #[test]
    fn any_split_of_the_example_stream_decodes_the_same(cuts in prop::collection::vec(any::<Index>(), 0..12)) {
        let body = fixture("thinking_text_tool.sse");
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(body.len())).collect();
        points.sort_unstable();
        let mut decoder = StreamDecoder::new();
        let mut events = Vec::new();
        let mut from = 0;
        for point in points.into_iter().chain([body.len()]) {
            decoder.feed(&body[from..point], &mut events);
            from = point;
        }
        decoder.finish(&mut events);
        prop_assert_eq!(events, example_events());
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_decoder(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let events = decode_all(&bytes);
        // Without message_stop a stream always ends with an error, and only one.
        let errors = events.iter().filter(|e| matches!(e, StreamEvent::Error(_))).count();
        prop_assert_eq!(errors, 1);
        let _ = decode_request(&bytes);
        let _ = decode_response(&bytes);
        let _ = decode_error(500, &bytes, "m");
    }

    #[test]
    fn arbitrary_json_never_panics_the_request_decoder(
        fields in prop::collection::vec(("[a-z_]{1,12}", prop_oneof![
            Just(json!(null)), Just(json!(1)), Just(json!(-1)), Just(json!("x")),
            Just(json!([])), Just(json!({})), Just(json!([{"type": "text"}])),
            Just(json!([{"role": "user", "content": [{"type": "image", "source": 3}]}])),
        ]), 0..8)
    ) {
        let body: serde_json::Map<String, Value> = fields.into_iter().collect();
        let _ = decode_request(Value::Object(body).to_string().as_bytes());
    }

    #[test]
    fn any_interleaving_gives_a_well_formed_stream_with_intact_tool_calls(
        sources in prop::collection::vec(source(), 1..5),
        picks in prop::collection::vec(any::<Index>(), 0..40),
    ) {
        let (events, calls) = interleave(&sources, &picks);
        let body = encode_all(&events, "m");
        assert_well_formed(&body);
        let decoded = decode_all(&body);
        prop_assert!(!decoded.iter().any(|e| matches!(e, StreamEvent::Error(_))));
        let response = accumulate(&decoded);
        let got: HashMap<String, Value> = response
            .tool_calls()
            .map(|(id, _, args)| (id.to_string(), args.clone()))
            .collect();
        prop_assert_eq!(got, calls);
        let sent: usize = sources.iter().map(|s| match s {
            Source::Text(p) => p.concat().len(),
            Source::Tool(_) => 0,
        }).sum();
        prop_assert_eq!(response.text().len(), sent);
        prop_assert_eq!(response.usage.map(|u| u.output_tokens), Some(4));
    }
}
