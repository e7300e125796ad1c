//! The body of `POST /v1/messages` → `anthropic::decode_request`, and a request it accepts →
//! every upstream's encoder. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    moxxy_fuzz::check_request(moxxy_actors::provider::anthropic::decode_request(data));
});
