//! A scripted fake of the LLM providers' HTTP APIs, on loopback, for Moxxy's tests and benchmarks.
//!
//! A real HTTP/1.1 server (hyper) on `127.0.0.1` that speaks the Anthropic Messages, OpenAI Chat
//! Completions (and compatibles) and Ollama `/api/chat` wire formats, so tests drive Moxxy's real
//! HTTP client against real sockets. Its JSON is written by hand from the protocol reference,
//! not produced by `moxxy-actors`' mappers: it is an independent witness of the wire formats,
//! and must never depend on the crate it tests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use moxxy_fake_upstream::{anthropic, FakeUpstream, Reply};
//! let fake = FakeUpstream::start().await?;
//! fake.push("/v1/messages", anthropic::rate_limited(2));
//! fake.push("/v1/messages", Reply::sse(anthropic::stream_text("claude-sonnet-4-5", &["Hel", "lo"])));
//! // ... point a provider at fake.url(), then:
//! assert_eq!(fake.request_count("/v1/messages"), 2);
//! # Ok(()) }
//! ```
//!
//! Layout:
//! - [`server`]: the [`FakeUpstream`] handle, accept loop and connections; `serve`, `body`, `io`
//!   answer requests, stream bodies and reset sockets; `script` and `record` hold what is
//!   scripted and what was seen.
//! - [`reply`]: [`Reply`] and [`StreamReply`], the scripted answers (delays, pauses, cuts, resets).
//! - [`anthropic`], [`openai`], [`ollama`]: canned bodies and streams in each exact wire format.
//! - [`frame`] and [`chunks`]: SSE/NDJSON framing, and reshaping streams to test decoders.
//! - [`canned`]: default replies for every protocol path, for benchmarks and the example server.

pub mod anthropic;
mod body;
pub mod canned;
pub mod chunks;
pub mod frame;
mod io;
pub mod ollama;
pub mod openai;
mod record;
pub mod reply;
mod script;
mod serve;
pub mod server;
mod state;

pub use canned::Canned;
pub use record::RecordedRequest;
pub use reply::{Reply, StreamReply};
pub use server::{FakeUpstream, Options};
