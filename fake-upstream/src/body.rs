//! Response bodies: a whole body in one frame, or a scripted stream that paces, cuts or stalls,
//! and notices when the client leaves before the end.
//!
//! How hyper writes them (checked against hyper 1's h1 dispatcher): it buffers the head, polls
//! the body, and flushes whenever the body is pending. So a whole body that is ready at once
//! goes out with its head in one write; a stream gets one write per chunk because the body is
//! pending (a pause, or a single self-woken yield) between chunks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::reply::{StreamEnd, StreamReply};
use crate::state::{ConnCtl, Shared};

/// The body of every response the fake writes.
pub(crate) enum ReplyBody {
    /// The whole body; `None` once written (or when empty).
    Whole(Option<Bytes>),
    Stream(ScriptedStream),
}

impl ReplyBody {
    pub(crate) fn whole(bytes: Bytes) -> ReplyBody {
        ReplyBody::Whole((!bytes.is_empty()).then_some(bytes))
    }
}

/// The error that breaks a stream on purpose (`cut_after`).
#[derive(Debug)]
pub(crate) struct ScriptedCut;

impl std::fmt::Display for ScriptedCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fake-upstream: stream cut as scripted")
    }
}

impl std::error::Error for ScriptedCut {}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = ScriptedCut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ScriptedCut>>> {
        match self.get_mut() {
            ReplyBody::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ReplyBody::Stream(stream) => stream.poll_next(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ReplyBody::Whole(bytes) => bytes.is_none(),
            ReplyBody::Stream(stream) => stream.finished,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReplyBody::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            // Unknown length: hyper uses chunked transfer encoding, as the real APIs do.
            ReplyBody::Stream(_) => SizeHint::default(),
        }
    }
}

/// What the stream does on its next poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Before chunk `next`: wait its delay (or yield once so the previous chunk is flushed).
    Wait,
    /// Send chunk `next`, or end as scripted.
    Send,
    /// About to cut: one yield has flushed what was written, now break the connection.
    Cut,
}

/// A streamed reply in flight.
pub(crate) struct ScriptedStream {
    chunks: Arc<[Bytes]>,
    next: usize,
    /// How many chunks are sent before the end (clean, cut or stall).
    limit: usize,
    pause: Duration,
    first_chunk_delay: Duration,
    end: StreamEnd,
    step: Step,
    /// One timer per stream, re-armed for each pause.
    sleep: Option<Pin<Box<Sleep>>>,
    sleeping: bool,
    /// The clean end was handed to hyper: dropping now is not an abort.
    finished: bool,
    /// The stream broke itself on purpose: not a client abort either.
    cut: bool,
    shared: Arc<Shared>,
    conn: Arc<ConnCtl>,
}

impl ScriptedStream {
    pub(crate) fn new(reply: &StreamReply, shared: Arc<Shared>, conn: Arc<ConnCtl>) -> Self {
        let limit = match reply.end {
            StreamEnd::Complete => reply.chunks.len(),
            StreamEnd::CutAfter(n) | StreamEnd::StallAfter(n) => n.min(reply.chunks.len()),
        };
        ScriptedStream {
            chunks: Arc::clone(&reply.chunks),
            next: 0,
            limit,
            pause: reply.pause,
            first_chunk_delay: reply.first_chunk_delay,
            end: reply.end,
            step: Step::Wait,
            sleep: None,
            sleeping: false,
            finished: reply.end == StreamEnd::Complete && limit == 0,
            cut: false,
            shared,
            conn,
        }
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ScriptedCut>>> {
        loop {
            if self.finished {
                return Poll::Ready(None);
            }
            if self.sleeping {
                if let Some(sleep) = self.sleep.as_mut() {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                self.sleeping = false;
            }
            match self.step {
                Step::Wait => {
                    self.step = Step::Send;
                    let delay = if self.next == 0 {
                        self.first_chunk_delay
                    } else {
                        self.pause
                    };
                    if !delay.is_zero() {
                        self.sleep_for(delay);
                    } else if self.next > 0 {
                        // Pending makes hyper flush the previous chunk: one write per chunk.
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                Step::Send => {
                    if self.next < self.limit {
                        let chunk = self.chunks.get(self.next).cloned().unwrap_or_default();
                        self.next += 1;
                        self.step = Step::Wait;
                        // The last chunk of a clean stream goes out with the terminator.
                        self.finished = self.end == StreamEnd::Complete && self.next == self.limit;
                        return Poll::Ready(Some(Ok(Frame::data(chunk))));
                    }
                    match self.end {
                        StreamEnd::Complete => {
                            self.finished = true;
                            return Poll::Ready(None);
                        }
                        // Never woken: held open until the client or the fake goes away.
                        StreamEnd::StallAfter(_) => return Poll::Pending,
                        StreamEnd::CutAfter(_) => {
                            // Yield once more so that the head and every chunk are flushed
                            // before the reset, which would discard unsent bytes.
                            self.step = Step::Cut;
                            cx.waker().wake_by_ref();
                            return Poll::Pending;
                        }
                    }
                }
                Step::Cut => {
                    self.cut = true;
                    self.conn.reset_on_close();
                    return Poll::Ready(Some(Err(ScriptedCut)));
                }
            }
        }
    }

    fn sleep_for(&mut self, delay: Duration) {
        let deadline = Instant::now() + delay;
        match self.sleep.as_mut() {
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
        self.sleeping = true;
    }
}

impl Drop for ScriptedStream {
    fn drop(&mut self) {
        if !self.finished && !self.cut {
            self.shared.stream_aborted();
        }
    }
}
