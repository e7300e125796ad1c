//! An OpenAI Chat Completions SSE body → the OpenAI stream mapper → events, cut anywhere; then
//! the events encoded for both kinds of client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moxxy_actors::provider::openai::{Dialect, StreamDecoder};

fuzz_target!(|data: &[u8]| {
    let Some(cut) = moxxy_fuzz::cut(data) else {
        return;
    };
    for dialect in [Dialect::OpenAi, Dialect::Gemini] {
        moxxy_fuzz::check_decoder(|| Box::new(StreamDecoder::new(dialect)), &cut);
    }
});
