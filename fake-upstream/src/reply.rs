//! What the fake answers: a scripted [`Reply`] and its streaming half, [`StreamReply`].
//!
//! Replies are built once and may be served many times (defaults, `push_n`), so bodies are kept
//! as already-serialized [`Bytes`] and stream chunks as a shared `Arc<[Bytes]>`: serving a reply
//! clones reference counts, never the content.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

/// Content type of JSON bodies.
pub const JSON: &str = "application/json";
/// Content type of Server-Sent Events streams (Anthropic, OpenAI and compatibles).
pub const SSE: &str = "text/event-stream";
/// Content type of newline-delimited JSON streams (Ollama).
pub const NDJSON: &str = "application/x-ndjson";

/// One scripted answer to one request.
///
/// Build it with [`Reply::json`], [`Reply::bytes`], [`Reply::sse`] / [`Reply::ndjson`] (streams),
/// [`Reply::reset`], [`Reply::delay`] or [`Reply::if_stream`]; adjust it with [`Reply::status`]
/// and [`Reply::header`].
#[derive(Clone, Debug)]
pub struct Reply(pub(crate) Kind);

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// A complete response, written in one go.
    Full { head: Head, body: Bytes },
    /// A response whose body is written chunk by chunk.
    Stream(StreamReply),
    /// Close the connection before any response byte.
    Reset,
    /// Wait, then answer with the inner reply.
    Delay(Duration, Box<Reply>),
    /// Pick one of two replies by the request body's `"stream"` flag.
    ByStreamFlag {
        streamed: Box<Reply>,
        plain: Box<Reply>,
        /// What a body without a boolean `"stream"` field means.
        absent_streams: bool,
    },
}

/// Status line and headers of a reply that has a response.
#[derive(Clone, Debug)]
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// A mistake in the script (an invalid header), served as a 500 so the test sees it instead
    /// of the fake panicking inside the server task.
    pub(crate) problem: Option<String>,
}

impl Head {
    fn new(status: u16, content_type: &str) -> Head {
        let mut head = Head {
            status,
            headers: HeaderMap::new(),
            problem: None,
        };
        head.set_header(CONTENT_TYPE.as_str(), content_type);
        head
    }

    fn set_header(&mut self, name: &str, value: &str) {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.insert(name, value);
            }
            _ => self.problem = Some(format!("invalid header {name:?}: {value:?}")),
        }
    }
}

impl Reply {
    /// A JSON reply; the body is serialized now, once.
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        Reply::bytes(status, JSON, bytes)
    }

    /// Any bytes with any content type: HTML error pages from a proxy, garbage, blank-line
    /// prefixed JSON (DeepSeek under load)...
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply(Kind::Full {
            head: Head::new(status, content_type),
            body: body.into(),
        })
    }

    /// A `200 text/event-stream` stream; each chunk is written and flushed on its own.
    pub fn sse(chunks: Vec<Bytes>) -> StreamReply {
        StreamReply::new(SSE, chunks)
    }

    /// A `200 application/x-ndjson` stream (Ollama); each chunk is written and flushed on its own.
    pub fn ndjson(chunks: Vec<Bytes>) -> StreamReply {
        StreamReply::new(NDJSON, chunks)
    }

    /// Closes the connection abruptly (TCP reset) before sending any response byte.
    pub fn reset() -> Reply {
        Reply(Kind::Reset)
    }

    /// Waits `delay` after the request body was read, then answers `reply`: a slow upstream.
    pub fn delay(delay: Duration, reply: impl Into<Reply>) -> Reply {
        Reply(Kind::Delay(delay, Box::new(reply.into())))
    }

    /// This reply, `delay` later.
    pub fn delayed(self, delay: Duration) -> Reply {
        Reply::delay(delay, self)
    }

    /// `streamed` when the request body says `"stream": true`, else `plain` (OpenAI and
    /// Anthropic, where a missing flag means no stream).
    pub fn if_stream(streamed: impl Into<Reply>, plain: impl Into<Reply>) -> Reply {
        Reply::by_stream_flag(streamed.into(), plain.into(), false)
    }

    /// `plain` only when the request body says `"stream": false`, else `streamed` (Ollama's
    /// `/api/chat`, which streams by default).
    pub fn unless_stream_false(streamed: impl Into<Reply>, plain: impl Into<Reply>) -> Reply {
        Reply::by_stream_flag(streamed.into(), plain.into(), true)
    }

    fn by_stream_flag(streamed: Reply, plain: Reply, absent_streams: bool) -> Reply {
        Reply(Kind::ByStreamFlag {
            streamed: Box::new(streamed),
            plain: Box::new(plain),
            absent_streams,
        })
    }

    /// Replaces the status code (of every response this reply can produce).
    pub fn status(self, status: u16) -> Reply {
        self.map_heads(&mut |head| head.status = status)
    }

    /// Sets a response header, replacing one of the same name (of every response this reply can
    /// produce). An invalid name or value makes the reply a 500 that names the mistake.
    pub fn header(self, name: &str, value: &str) -> Reply {
        self.map_heads(&mut |head| head.set_header(name, value))
    }

    fn map_heads(self, change: &mut dyn FnMut(&mut Head)) -> Reply {
        Reply(match self.0 {
            Kind::Full { mut head, body } => {
                change(&mut head);
                Kind::Full { head, body }
            }
            Kind::Stream(mut stream) => {
                change(&mut stream.head);
                Kind::Stream(stream)
            }
            Kind::Reset => Kind::Reset,
            Kind::Delay(delay, inner) => Kind::Delay(delay, Box::new(inner.map_heads(change))),
            Kind::ByStreamFlag {
                streamed,
                plain,
                absent_streams,
            } => Kind::ByStreamFlag {
                streamed: Box::new(streamed.map_heads(change)),
                plain: Box::new(plain.map_heads(change)),
                absent_streams,
            },
        })
    }
}

/// A streamed reply: chunks written one write each, paced, and optionally broken.
///
/// Turns into a [`Reply`] with `.into()`; every method of `FakeUpstream` that takes a reply
/// accepts it directly.
#[derive(Clone, Debug)]
pub struct StreamReply {
    pub(crate) head: Head,
    pub(crate) chunks: Arc<[Bytes]>,
    pub(crate) pause: Duration,
    pub(crate) headers_delay: Duration,
    pub(crate) first_chunk_delay: Duration,
    pub(crate) end: StreamEnd,
}

/// How a stream ends once its chunks (or the first N of them) are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The terminating zero-length chunk: a clean end.
    Complete,
    /// A TCP reset after N chunks: the client sees a broken body.
    CutAfter(usize),
    /// Nothing more after N chunks, the connection held open until the client leaves.
    StallAfter(usize),
}

impl StreamReply {
    /// A `200` stream of `chunks` with the given content type, no pauses, ending cleanly.
    pub fn new(content_type: &str, chunks: Vec<Bytes>) -> StreamReply {
        StreamReply {
            head: Head::new(200, content_type),
            chunks: chunks.into(),
            pause: Duration::ZERO,
            headers_delay: Duration::ZERO,
            first_chunk_delay: Duration::ZERO,
            end: StreamEnd::Complete,
        }
    }

    /// Replaces the status code.
    pub fn status(mut self, status: u16) -> StreamReply {
        self.head.status = status;
        self
    }

    /// Sets a response header, replacing one of the same name.
    pub fn header(mut self, name: &str, value: &str) -> StreamReply {
        self.head.set_header(name, value);
        self
    }

    /// The pause between two chunks (and before a cut).
    pub fn pause(mut self, pause: Duration) -> StreamReply {
        self.pause = pause;
        self
    }

    /// The wait before the status line and headers are sent: a slow first byte.
    pub fn headers_delay(mut self, delay: Duration) -> StreamReply {
        self.headers_delay = delay;
        self
    }

    /// The wait between the headers and the first chunk.
    pub fn first_chunk_delay(mut self, delay: Duration) -> StreamReply {
        self.first_chunk_delay = delay;
        self
    }

    /// After `n` chunks (all of them if there are fewer), reset the connection instead of ending
    /// the body: the client's body read fails.
    pub fn cut_after(mut self, n: usize) -> StreamReply {
        self.end = StreamEnd::CutAfter(n);
        self
    }

    /// After `n` chunks (all of them if there are fewer), send nothing more and never end: the
    /// connection stays open until the client gives up (or the fake shuts down).
    pub fn stall_after(mut self, n: usize) -> StreamReply {
        self.end = StreamEnd::StallAfter(n);
        self
    }

    /// Wraps it into a [`Reply`].
    pub fn reply(self) -> Reply {
        Reply(Kind::Stream(self))
    }
}

impl From<StreamReply> for Reply {
    fn from(stream: StreamReply) -> Reply {
        stream.reply()
    }
}
