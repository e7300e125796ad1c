//! A deadline on reading a request body: `server.body_timeout_s` from the moment its headers
//! were in.
//!
//! actix-web bounds the time a client may take to send its headers (408 after 5 s) but not its
//! body: a client that sends `Content-Length: 1000000` and then a byte a second (slowloris) would
//! hold its connection, and a handler, for days. [`limit`] wraps the request's payload so that
//! reading it fails with [`BodyTimeout`] once the deadline has passed; [`super::body`] turns that
//! into a 408 that says so, and the connection is closed with it (the unread rest is not waited
//! for).
//!
//! The deadline is on the whole body, not on the pause between two chunks: a byte every few
//! seconds never pauses long, and still never ends.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

/// Why reading a body failed: it did not arrive whole in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The request body did not arrive within {} s - send it whole, without pauses", .0.as_secs())]
pub struct BodyTimeout(pub Duration);

impl BodyTimeout {
    /// The timeout a payload error stands for, if it is one.
    pub fn of(error: &PayloadError) -> Option<BodyTimeout> {
        match error {
            PayloadError::Io(e) => e.get_ref()?.downcast_ref::<BodyTimeout>().copied(),
            _ => None,
        }
    }
}

/// Makes the body of `req` fail with [`BodyTimeout`] if it is still being read `timeout` from
/// now. A request without a body is left as it is.
pub fn limit(req: &mut ServiceRequest, timeout: Duration) {
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        return;
    }
    let deadline = Instant::now().checked_add(timeout);
    let timed = Timed {
        inner: payload,
        deadline,
        timeout,
        timer: None,
        expired: false,
    };
    req.set_payload(Payload::from(
        Box::pin(timed) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
    ));
}

/// A payload with a deadline.
struct Timed {
    inner: Payload,
    /// `None` for a timeout too long to add to the clock: no deadline.
    deadline: Option<Instant>,
    timeout: Duration,
    /// Made on the first wait only: a body already in the buffer costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
    expired: bool,
}

impl Stream for Timed {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = this.inner.poll_next_unpin(cx) {
            return Poll::Ready(item);
        }
        let Some(deadline) = this.deadline else {
            return Poll::Pending;
        };
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired = true;
                let error = io::Error::new(io::ErrorKind::TimedOut, BodyTimeout(this.timeout));
                Poll::Ready(Some(Err(PayloadError::Io(error))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
