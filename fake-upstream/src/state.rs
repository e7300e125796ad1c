//! State shared by the handle, the accept loop, every connection and every streamed body.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use hyper::server::conn::http1;
use tokio::sync::Notify;

use crate::record::RecordedRequest;
use crate::script::Script;

/// Everything the server tasks share. Counters are atomics so that the fast path (recording
/// off) takes no lock except the script's.
pub(crate) struct Shared {
    pub(crate) script: Script,
    pub(crate) http: http1::Builder,
    pub(crate) recording: AtomicBool,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) requests_served: AtomicUsize,
    pub(crate) accepted: AtomicUsize,
    pub(crate) open: AtomicUsize,
    pub(crate) aborted_streams: AtomicUsize,
    pub(crate) abandoned: AtomicUsize,
    /// Woken on every event a test may wait for (recorded request, connection opened or
    /// closed, stream aborted, reply abandoned).
    pub(crate) changed: Notify,
}

impl Shared {
    pub(crate) fn new(http: http1::Builder, recording: bool) -> Shared {
        Shared {
            script: Script::default(),
            http,
            recording: AtomicBool::new(recording),
            requests: Mutex::new(Vec::new()),
            requests_served: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            aborted_streams: AtomicUsize::new(0),
            abandoned: AtomicUsize::new(0),
            changed: Notify::new(),
        }
    }

    pub(crate) fn requests(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        self.requests().push(request);
        self.changed.notify_waiters();
    }

    /// Counts an event and wakes the waiters.
    pub(crate) fn bump(&self, counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_waiters();
    }

    /// A streamed body went away before its end was written.
    pub(crate) fn stream_aborted(&self) {
        self.bump(&self.aborted_streams);
    }

    /// A non-streamed reply was dropped before its response was produced (the client left
    /// during a delay).
    pub(crate) fn reply_abandoned(&self) {
        self.bump(&self.abandoned);
    }
}

/// One accepted connection's identity and its "reset instead of closing" switch, shared by
/// the connection's socket wrapper and whatever reply decides to break it.
#[derive(Debug)]
pub(crate) struct ConnCtl {
    pub(crate) id: u64,
    reset: AtomicBool,
}

impl ConnCtl {
    pub(crate) fn new(id: u64) -> ConnCtl {
        ConnCtl {
            id,
            reset: AtomicBool::new(false),
        }
    }

    /// Makes the socket send a TCP reset (not a FIN) when it closes.
    pub(crate) fn reset_on_close(&self) {
        self.reset.store(true, Ordering::Release);
    }

    pub(crate) fn wants_reset(&self) -> bool {
        self.reset.load(Ordering::Acquire)
    }
}

/// Decrements the open-connection count when a connection task ends, however it ends.
pub(crate) struct OpenConnection<'a>(pub(crate) &'a Shared);

impl<'a> OpenConnection<'a> {
    pub(crate) fn new(shared: &'a Shared) -> OpenConnection<'a> {
        shared.open.fetch_add(1, Ordering::AcqRel);
        shared.changed.notify_waiters();
        OpenConnection(shared)
    }
}

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_waiters();
    }
}
