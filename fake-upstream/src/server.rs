//! [`FakeUpstream`]: the handle tests hold, and the accept loop and connections behind it.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::io::ConnIo;
use crate::record::{route_of, RecordedRequest};
use crate::reply::Reply;
use crate::serve;
use crate::state::{ConnCtl, OpenConnection, Shared};

/// How long the accept loop backs off after a failed accept (say, out of file descriptors
/// during a benchmark) before it tries again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// How to start a [`FakeUpstream`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Where to listen; the default `127.0.0.1:0` picks a free port.
    pub addr: SocketAddr,
    /// Whether to keep every request for [`FakeUpstream::requests`]. On by default; turn it off
    /// for load, where it costs a lock and copies per request and grows without bound.
    pub record_requests: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            record_requests: true,
        }
    }
}

/// A scripted HTTP/1.1 server on loopback that plays an LLM provider.
///
/// Cheap to clone; the server stops when the last clone is dropped or on
/// [`shutdown`](FakeUpstream::shutdown), closing its open connections.
#[derive(Clone)]
pub struct FakeUpstream {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// Dropping the last sender is the shutdown signal; the server tasks only hold receivers.
    stop: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for FakeUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeUpstream")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeUpstream {
    /// Starts a recording fake on `127.0.0.1` at a free port.
    pub async fn start() -> io::Result<FakeUpstream> {
        FakeUpstream::start_with(Options::default()).await
    }

    /// Starts a fake with the given options. Needs a tokio runtime with timers (`time`).
    pub async fn start_with(options: Options) -> io::Result<FakeUpstream> {
        let listener = TcpListener::bind(options.addr).await?;
        let addr = listener.local_addr()?;
        let mut http = http1::Builder::new();
        // writev: head and body leave in one vectored write, no copy of large bodies.
        // half_close off (the default, stated because abort detection relies on it): an EOF
        // from the client while a response is being written ends the connection at once.
        http.writev(true).half_close(false).keep_alive(true);
        let shared = Arc::new(Shared::new(http, options.record_requests));
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        Ok(FakeUpstream {
            shared,
            addr,
            stop: Arc::new(stop),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: a provider base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a one-shot reply for requests to `path` (query ignored, any method). Queued
    /// replies are served first in, first out; then the path's default; then a 404 JSON.
    pub fn push(&self, path: &str, reply: impl Into<Reply>) {
        self.shared.script.push(path, reply.into(), 1);
    }

    /// Queues the same reply `n` times.
    pub fn push_n(&self, path: &str, n: usize, reply: impl Into<Reply>) {
        self.shared.script.push(path, reply.into(), n);
    }

    /// The reply for `path` whenever its queue is empty (replacing an earlier default).
    pub fn set_default(&self, path: &str, reply: impl Into<Reply>) {
        self.shared.script.set_default(path, reply.into());
    }

    /// How many one-shot replies for `path` have not been served yet.
    pub fn queued(&self, path: &str) -> usize {
        self.shared.script.queued(path)
    }

    /// Forgets every queued reply and default.
    pub fn clear_script(&self) {
        self.shared.script.clear();
    }

    /// Turns request recording on or off from now on.
    pub fn set_recording(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Release);
    }

    /// Every recorded request, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests().clone()
    }

    /// Recorded requests whose path (query ignored) is `path`.
    pub fn request_count(&self, path: &str) -> usize {
        let requests = self.shared.requests();
        requests
            .iter()
            .filter(|r| r.route() == route_of(path))
            .count()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.requests().clear();
    }

    /// Requests whose body was read, recorded or not: the counter to use with recording off.
    pub fn requests_served(&self) -> usize {
        self.shared.requests_served.load(Ordering::Acquire)
    }

    /// Streamed replies whose client went away before the end was written (a scripted cut is
    /// not counted; a stall the client gave up on is). Seen when a write fails or the client's
    /// EOF is read, so it may lag the disconnect a little: use [`wait_aborted`](Self::wait_aborted).
    pub fn aborted_streams(&self) -> usize {
        self.shared.aborted_streams.load(Ordering::Acquire)
    }

    /// Non-streamed requests whose client left before the response existed (during a
    /// [`Reply::delay`], or while sending its body).
    pub fn abandoned_replies(&self) -> usize {
        self.shared.abandoned.load(Ordering::Acquire)
    }

    /// Connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::Acquire)
    }

    /// Connections currently open.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }

    /// Waits until `aborted_streams() >= n`; false if `timeout` passed first.
    pub async fn wait_aborted(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |fake| fake.aborted_streams() >= n)
            .await
    }

    /// Waits until `done(self)` holds, re-checking after every recorded request, connection
    /// change, aborted stream or abandoned reply; false if `timeout` passed first.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&FakeUpstream) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            // Registered before checking, so an event between the check and the await wakes us.
            changed.as_mut().enable();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return done(self);
            }
        }
    }

    /// Stops accepting and closes every open connection (in-flight streams end abruptly).
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.wait_for(|stop| *stop) => return,
        };
        match accepted {
            Ok((stream, _peer)) => {
                tokio::spawn(serve_connection(
                    stream,
                    Arc::clone(&shared),
                    stopped.clone(),
                ));
            }
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

async fn serve_connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    // Without it a response written in two segments waits for the client's delayed ACK.
    let _ = stream.set_nodelay(true);
    let id = shared.accepted.fetch_add(1, Ordering::AcqRel) + 1;
    let _open = OpenConnection::new(&shared);
    let ctl = Arc::new(ConnCtl::new(id as u64));
    let io = ConnIo::new(stream, Arc::clone(&ctl));
    let service = {
        let shared = Arc::clone(&shared);
        service_fn(move |request| serve::handle(Arc::clone(&shared), Arc::clone(&ctl), request))
    };
    let connection = shared.http.serve_connection(io, service);
    tokio::select! {
        // Errors here are the client's or scripted (reset, cut): nothing to report.
        _ = connection => {}
        _ = stopped.wait_for(|stop| *stop) => {}
    }
}
