//! The SSE decoder: any bytes, cut anywhere, give the same events as the whole body, and every
//! event is well formed (a non-empty name, no line end inside a name or an id).
#![no_main]

use libfuzzer_sys::fuzz_target;
use moxxy_actors::provider::sse::{SseDecoder, SseEvent};

fn decode(reads: &[&[u8]]) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    let mut out = Vec::new();
    for read in reads {
        decoder.feed(read, &mut out);
    }
    decoder.finish(&mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some(cut) = moxxy_fuzz::cut(data) else {
        return;
    };
    let whole = decode(&[cut.body]);
    assert_eq!(decode(&cut.reads), whole, "events depend on the cut");
    for event in &whole {
        assert!(!event.event.is_empty(), "an event without a name");
        for field in [Some(&event.event), event.id.as_ref()]
            .into_iter()
            .flatten()
        {
            assert!(!field.contains(['\n', '\r']), "a line end inside a field");
        }
    }
});
