//! The end-to-end harness: the real `moxxy` binary, started as a user starts it, against a
//! scripted fake upstream on loopback.
//!
//! Each `tests/server_*.rs` file says `mod e2e;` and drives [`TestServer`]: a `moxxy serve`
//! child process with its own temporary data directory, a fixed test master key, every upstream
//! address pointing at a [`FakeUpstream`](moxxy_fake_upstream::FakeUpstream), and a clean
//! environment (the developer's real keys never reach a test). What it printed to stderr is kept
//! in a file, so tests can read the logs; responses seen through [`Api`] are kept in a transcript,
//! so the secrets test can scan them.
//!
//! - [`server`]: [`TestServer`] and [`ServerOptions`]: start, stop (SIGTERM), `kill -9`, restart.
//! - [`http`]: [`Api`], a client bound to one token, and [`Resp`], a response read whole.
//! - [`check`]: assertions on the contract's error JSON and on SSE streams.
//! - [`process`]: running a child process with a deadline (the CLI, pytest).
//! - [`bodies`]: request bodies the tests share (chat requests, provider registrations).

// Each test file uses a different part of the harness; what one leaves unused is not dead.
#![allow(dead_code, unused_imports)]

pub mod bodies;
pub mod check;
pub mod http;
pub mod process;
pub mod server;

pub use bodies::{chat, chat_stream, provider};
pub use check::{
    assert_error, assert_error_shape, assert_request_id, sse_chunks, sse_events, SseStream,
};
pub use http::{Api, Resp};
pub use process::{run, Output};
pub use server::{ServerOptions, TestServer, MASTER_KEY};

/// A `mox_` token that is well formed but was never issued.
pub const UNKNOWN_TOKEN: &str =
    "mox_0000000000000000000000000000000000000000000000000000000000000000";

/// A loopback port on which nothing listens (bound, then released): an upstream that is down.
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    port
}

/// Whether `token` has the documented form: `mox_` and 64 lowercase hex characters.
pub fn is_mox_token(token: &str) -> bool {
    token.strip_prefix("mox_").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}
