//! Graceful shutdown as requests in flight see it.
//!
//! On SIGTERM or Ctrl-C the server ([`crate::server::run`]) calls [`Shutdown::begin`], then stops
//! accepting connections. From that moment:
//!
//! - a request that arrives on a connection still open is refused with 503 (the request-context
//!   middleware asks [`Shutdown::is_started`]), so a client retries elsewhere or after the restart;
//! - requests in flight go on. One still unanswered, or a stream whose upstream is still going,
//!   `server.shutdown_grace_s` after the signal ([`Shutdown::cut`]) ends with an error in its
//!   client's protocol — a 503, or an error event that ends the stream ([`cut_off`]) — rather than
//!   being cut without a word when the server's own deadline drops the connection;
//! - the upstream request of a stream ended this way is dropped, so the upstream stops
//!   generating; an agent turn cut this way stays an incomplete turn (its user message, no reply).
//!
//! Everything here is a cheap handle on one `watch` channel: holding it costs a stream nothing
//! until the signal comes.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;

/// What a client is told when the server ends its request because it is stopping. Word for word
/// in API.md's errors table.
pub const SHUTTING_DOWN: &str = "The server is shutting down - retry the request";

/// The server's shutdown signal and grace period, shared by every request.
#[derive(Clone, Debug)]
pub struct Shutdown {
    /// `None` while serving; the moment the signal came once it did.
    signal: Arc<watch::Sender<Option<Instant>>>,
    /// How long requests in flight may go on after the signal.
    grace: Duration,
}

impl Shutdown {
    /// A server not shutting down, whose requests get `grace` after the signal.
    pub fn new(grace: Duration) -> Shutdown {
        Shutdown {
            signal: Arc::new(watch::channel(None).0),
            grace,
        }
    }

    /// Starts the shutdown: from now on [`is_started`](Self::is_started) is true and every
    /// [`cut`](Self::cut) fires `grace` from now. Only the first call counts.
    pub fn begin(&self) {
        self.signal.send_if_modified(|at| {
            if at.is_some() {
                return false;
            }
            *at = Some(Instant::now());
            true
        });
    }

    /// Whether the shutdown has begun.
    pub fn is_started(&self) -> bool {
        self.signal.borrow().is_some()
    }

    /// The grace period requests in flight get after the signal.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// Resolves when the grace period after the signal has passed; pending forever while the
    /// server serves. The deadline is the same for every caller, however late it asks.
    pub fn cut(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut signal = self.signal.subscribe();
        let grace = self.grace;
        async move {
            let at = match signal.wait_for(Option::is_some).await {
                Ok(at) => *at,
                // The sender lives as long as any `Shutdown`; without it nothing can signal.
                Err(_) => None,
            };
            // A grace too long to add to a clock reading never ends (config caps it anyway).
            match at.and_then(|at| at.checked_add(grace)) {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        }
    }
}

impl Default for Shutdown {
    /// A server not shutting down, with the default grace period.
    fn default() -> Shutdown {
        Shutdown::new(Duration::from_secs(crate::config::SHUTDOWN_GRACE_S))
    }
}

/// The items of `stream` until it ends, or until `cut` resolves first; then one last item made
/// by `last` (an error event in the stream's own protocol), and the end. `stream` is dropped the
/// moment `cut` wins, which closes its upstream request. An item already waiting wins over the
/// cut, so a stream that finishes in time finishes whole.
pub fn cut_off<S, F, L>(stream: S, cut: F, last: L) -> impl Stream<Item = S::Item> + Send + 'static
where
    S: Stream + Unpin + Send + 'static,
    S::Item: Send + 'static,
    F: Future<Output = ()> + Send + 'static,
    L: FnOnce() -> S::Item + Send + 'static,
{
    let state = Some((stream, Box::pin(cut), last));
    futures_util::stream::unfold(state, |state| async move {
        let (mut stream, mut cut, last) = state?;
        tokio::select! {
            biased;
            item = stream.next() => item.map(|item| (item, Some((stream, cut, last)))),
            () = &mut cut => Some((last(), None)),
        }
    })
}
