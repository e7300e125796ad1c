//! An Anthropic Messages SSE body → the Anthropic stream mapper → events, cut anywhere; then the
//! events encoded for both kinds of client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moxxy_actors::provider::anthropic::StreamDecoder;

fuzz_target!(|data: &[u8]| {
    let Some(cut) = moxxy_fuzz::cut(data) else {
        return;
    };
    moxxy_fuzz::check_decoder(|| Box::new(StreamDecoder::new()), &cut);
});
