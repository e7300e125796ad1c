//! The SSE and NDJSON decoders against the spec's cases and, by property tests, against any split
//! of a stream into reads.
#![allow(clippy::unwrap_used)]

use moxxy_actors::provider::ndjson::NdjsonDecoder;
use moxxy_actors::provider::sse::{SseDecoder, SseEvent};
use proptest::prelude::*;

fn decode_in_reads(reads: &[&[u8]]) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    let mut out = Vec::new();
    for read in reads {
        decoder.feed(read, &mut out);
    }
    decoder.finish(&mut out);
    out
}

fn decode(bytes: &[u8]) -> Vec<SseEvent> {
    decode_in_reads(&[bytes])
}

fn ev(event: &str, data: &str) -> (String, String) {
    (event.to_string(), data.to_string())
}

fn pairs(events: &[SseEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| (e.event.clone(), e.data.clone()))
        .collect()
}

#[test]
fn lf_crlf_and_lone_cr_line_ends_mixed() {
    let stream = b"event: a\r\ndata: one\r\n\r\nevent: b\rdata: two\r\rdata: three\n\n";
    assert_eq!(
        pairs(&decode(stream)),
        vec![ev("a", "one"), ev("b", "two"), ev("message", "three")]
    );
}

#[test]
fn multi_line_data_joins_with_newline_and_comments_are_skipped() {
    let stream = b": ping\ndata: first\n: keep-alive between data lines\ndata: second\n\n: tail\n";
    assert_eq!(pairs(&decode(stream)), vec![ev("message", "first\nsecond")]);
}

#[test]
fn field_rules_colon_space_and_no_colon() {
    // Only one space after the colon is dropped; "data" alone is an empty data line.
    let stream = b"data:no-space\ndata:  two-spaces\ndata\n\n";
    assert_eq!(
        pairs(&decode(stream)),
        vec![ev("message", "no-space\n two-spaces\n")]
    );
}

#[test]
fn id_persists_and_retry_is_read_only_when_numeric() {
    let stream = b"id: 7\nretry: 1500\ndata: a\n\nretry: soon\ndata: b\n\nid: x\0y\ndata: c\n\n";
    let events = decode(stream);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].id.as_deref(), Some("7"));
    assert_eq!(events[0].retry, Some(1500));
    assert_eq!(
        events[1].id.as_deref(),
        Some("7"),
        "the last id carries over"
    );
    assert_eq!(events[1].retry, None);
    assert_eq!(
        events[2].id.as_deref(),
        Some("7"),
        "an id with NUL is ignored"
    );
}

#[test]
fn events_without_data_are_not_dispatched() {
    let stream = b"event: lonely\n\nevent: real\ndata: x\n\n";
    assert_eq!(pairs(&decode(stream)), vec![ev("real", "x")]);
}

#[test]
fn a_final_event_without_its_blank_line_is_flushed() {
    let stream = b"data: first\n\ndata: unterminated";
    assert_eq!(
        pairs(&decode(stream)),
        vec![ev("message", "first"), ev("message", "unterminated")]
    );
}

#[test]
fn bom_is_stripped_even_when_split() {
    let stream = b"\xEF\xBB\xBFdata: x\n\n";
    for split in 0..=stream.len() {
        let (a, b) = stream.split_at(split);
        assert_eq!(pairs(&decode_in_reads(&[a, b])), vec![ev("message", "x")]);
    }
}

#[test]
fn crlf_split_between_reads_is_one_line_end() {
    // "\r" ends one read and "\n" starts the next: one line end, not an empty line.
    let events = decode_in_reads(&[b"data: a\r", b"\ndata: b\r", b"", b"\n\r\n"]);
    assert_eq!(pairs(&events), vec![ev("message", "a\nb")]);
}

#[test]
fn invalid_utf8_becomes_replacement_character() {
    let events = decode(b"data: a\xFFb\n\n");
    assert_eq!(events[0].data, "a\u{FFFD}b");
}

#[test]
fn every_two_way_split_of_a_real_stream_gives_the_same_events() {
    let stream = "event: message_start\r\ndata: {\"t\":\"é\"}\r\n\r\n: ping\n\
                  event: content_block_delta\rdata: {\"text\":\"🙂 ok\"}\r\r\
                  data: [DONE]\n\n"
        .as_bytes();
    let whole = decode(stream);
    assert_eq!(whole.len(), 3);
    assert_eq!(whole[1].data, "{\"text\":\"🙂 ok\"}");
    for i in 0..=stream.len() {
        for j in i..=stream.len() {
            let got = decode_in_reads(&[&stream[..i], &stream[i..j], &stream[j..]]);
            assert_eq!(got, whole, "split at {i} and {j}");
        }
    }
}

#[test]
fn byte_at_a_time_gives_the_same_events() {
    let stream = "data: {\"a\":\"🙂\"}\n\nevent: e\ndata: x\ndata: y\n\n".as_bytes();
    let reads: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(decode_in_reads(&reads), decode(stream));
}

/// An event as a generator sees it: a name (or none) and data lines.
#[derive(Debug, Clone)]
struct GenEvent {
    name: Option<String>,
    lines: Vec<String>,
}

fn gen_event() -> impl Strategy<Value = GenEvent> {
    let text = "[a-zA-Z0-9 {}\":,éü🙂中]{0,12}";
    (
        proptest::option::of("[a-z_]{1,10}"),
        proptest::collection::vec(text, 1..4),
    )
        .prop_map(|(name, lines)| GenEvent { name, lines })
}

fn encode(events: &[GenEvent], line_ends: &[&str], with_comments: bool) -> Vec<u8> {
    let mut out = String::new();
    let mut n = 0;
    let mut previous = "";
    // A "\r" end directly followed by a "\n" end would read as one CRLF: write "\r\n" for that
    // second end so the stream holds the line ends the generator means.
    let mut end = || {
        n += 1;
        let mut chosen = line_ends[n % line_ends.len()];
        if previous == "\r" && chosen == "\n" {
            chosen = "\r\n";
        }
        previous = chosen;
        chosen
    };
    for e in events {
        if with_comments {
            out.push_str(": comment");
            out.push_str(end());
        }
        if let Some(name) = &e.name {
            out.push_str("event: ");
            out.push_str(name);
            out.push_str(end());
        }
        for line in &e.lines {
            out.push_str("data: ");
            out.push_str(line);
            out.push_str(end());
        }
        out.push_str(end());
    }
    out.into_bytes()
}

fn split_at_points(bytes: &[u8], mut points: Vec<usize>) -> Vec<&[u8]> {
    points.iter_mut().for_each(|p| *p %= bytes.len() + 1);
    points.sort_unstable();
    let mut reads = Vec::new();
    let mut start = 0;
    for p in points {
        reads.push(&bytes[start..p]);
        start = p;
    }
    reads.push(&bytes[start..]);
    reads
}

proptest! {
    #[test]
    fn sse_any_split_any_line_ends_round_trip(
        events in proptest::collection::vec(gen_event(), 1..6),
        ends in proptest::sample::subsequence(vec!["\n", "\r\n", "\r"], 1..=3),
        comments in any::<bool>(),
        points in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let bytes = encode(&events, &ends, comments);
        let got = decode_in_reads(&split_at_points(&bytes, points));
        let want: Vec<(String, String)> = events
            .iter()
            .map(|e| (
                e.name.clone().unwrap_or_else(|| "message".to_string()),
                e.lines.join("\n"),
            ))
            .collect();
        prop_assert_eq!(pairs(&got), want);
    }

    #[test]
    fn sse_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        points in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let split = decode_in_reads(&split_at_points(&bytes, points));
        prop_assert_eq!(split, decode(&bytes));
    }
}

fn ndjson_in_reads(reads: &[&[u8]]) -> Vec<String> {
    let mut decoder = NdjsonDecoder::new();
    let mut out = Vec::new();
    for read in reads {
        decoder.feed(read, &mut out);
    }
    decoder.finish(&mut out);
    out
}

#[test]
fn ndjson_lines_crlf_blank_lines_and_unterminated_tail() {
    let stream = b"{\"a\":1}\r\n\n  \n{\"b\":\"\xC3\xA9\"}\n{\"c\":3}";
    assert_eq!(
        ndjson_in_reads(&[stream]),
        vec!["{\"a\":1}", "{\"b\":\"é\"}", "{\"c\":3}"]
    );
}

proptest! {
    #[test]
    fn ndjson_any_split_gives_the_same_lines(
        lines in proptest::collection::vec("[a-z0-9{}\":,éü🙂中 ]{1,20}", 1..8),
        crlf in any::<bool>(),
        points in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let bytes: Vec<u8> = lines.iter().flat_map(|l| format!("{l}{end}").into_bytes()).collect();
        let want: Vec<String> = lines.iter().filter(|l| !l.trim().is_empty()).cloned().collect();
        prop_assert_eq!(ndjson_in_reads(&split_at_points(&bytes, points)), want);
    }
}
