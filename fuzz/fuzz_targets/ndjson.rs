//! The NDJSON splitter: any bytes, cut anywhere, give the same lines as the whole body; no line
//! holds a line end or is blank.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moxxy_actors::provider::ndjson::NdjsonDecoder;

fn decode(reads: &[&[u8]]) -> Vec<String> {
    let mut decoder = NdjsonDecoder::new();
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
    assert_eq!(decode(&cut.reads), whole, "lines depend on the cut");
    for line in &whole {
        assert!(!line.contains('\n'), "a line holds a line end");
        // Blank means ASCII whitespace only, as the splitter documents (a vertical tab is not).
        assert!(
            !line.bytes().all(|b| b.is_ascii_whitespace()),
            "a blank line was passed on"
        );
    }
});
