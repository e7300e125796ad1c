//! A streamed answer as a `Stream` of [`StreamEvent`]s.
//!
//! The stream is opened only once the upstream has sent its first real event (text, thinking, a
//! tool call, a stop or an error — not just `Start`/`Usage`): an upstream that answers 200 and then
//! an error becomes a proper error the attempt loop can retry, and nothing has reached the caller
//! yet. After that, bytes are decoded as they arrive and each event is yielded at once; silence
//! longer than the idle timeout ends the stream with an error event. Dropping the stream drops the
//! upstream response, which closes its connection: the upstream stops generating.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::core::{total_tokens, ProviderCore};
use super::StreamDecode;
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{StreamEvent, Usage};

/// A streamed answer. Ends after `Stop` (and a possible trailing `Usage`) or after an `Error`.
pub type EventStream = Pin<Box<dyn Stream<Item = StreamEvent> + Send>>;

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// The state behind an [`EventStream`].
struct Upstream {
    core: Arc<ProviderCore>,
    body: ByteStream,
    decoder: Box<dyn StreamDecode>,
    pending: VecDeque<StreamEvent>,
    scratch: Vec<StreamEvent>,
    finished: bool,
    estimated_tokens: u64,
    usage: Option<Usage>,
}

/// Opens the stream of a 2xx `response`: waits for the first real event and fails like a
/// non-streamed request if that event is an error. Answers the stream and the instant the
/// bytes holding its first real event were read.
pub(crate) async fn open(
    core: Arc<ProviderCore>,
    response: reqwest::Response,
    estimated_tokens: u64,
) -> Result<(EventStream, Instant), ProviderError> {
    let decoder = core.protocol.stream_decoder();
    let mut upstream = Upstream {
        body: Box::pin(response.bytes_stream()),
        decoder,
        pending: VecDeque::new(),
        scratch: Vec::new(),
        finished: false,
        estimated_tokens,
        usage: None,
        core,
    };
    // The request timeout covers the wait for the first event (the caller's timeout wraps us).
    while !upstream.pending.iter().any(is_real) && !upstream.finished {
        upstream.read_more(false).await;
    }
    let first_event = Instant::now();
    if let Some(first) = upstream.pending.iter().position(is_real) {
        if matches!(upstream.pending.get(first), Some(StreamEvent::Error(_))) {
            if let Some(StreamEvent::Error(error)) = upstream.pending.remove(first) {
                return Err(error);
            }
        }
    }
    let events = futures_util::stream::unfold(upstream, |mut upstream| async move {
        upstream.next_event().await.map(|e| (e, upstream))
    });
    Ok((Box::pin(events), first_event))
}

/// Whether an event commits the stream: anything but the preamble.
fn is_real(event: &StreamEvent) -> bool {
    !matches!(event, StreamEvent::Start { .. } | StreamEvent::Usage(_))
}

impl Upstream {
    async fn next_event(&mut self) -> Option<StreamEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                if let StreamEvent::Usage(u) = &event {
                    self.usage = Some(*u);
                }
                if let StreamEvent::Error(_) = &event {
                    // Nothing follows an error.
                    self.pending.clear();
                    self.finished = true;
                }
                return Some(event);
            }
            if self.finished {
                return None;
            }
            self.read_more(true).await;
        }
    }

    /// Reads the next piece of the body and decodes it into `pending`.
    async fn read_more(&mut self, idle_limit: bool) {
        let next = if idle_limit {
            match tokio::time::timeout(self.core.stream_idle_timeout(), self.body.next()).await {
                Ok(next) => next,
                Err(_) => {
                    let secs = self.core.stream_idle_timeout().as_secs();
                    let error = ProviderError::new(
                        ErrorKind::Timeout,
                        format!(
                            "Provider '{}' sent nothing for {secs} s; the stream was abandoned",
                            self.core.config.id
                        ),
                    );
                    self.fail(error);
                    return;
                }
            }
        } else {
            self.body.next().await
        };
        match next {
            Some(Ok(bytes)) => self.decoder.feed(&bytes, &mut self.scratch),
            Some(Err(e)) => {
                let mut error = self.core.transport_error(e);
                error.kind = ErrorKind::Upstream;
                error.message = format!(
                    "The stream from provider '{}' was cut off before it finished",
                    self.core.config.id
                );
                self.decoder.finish(&mut self.scratch);
                // Keep what the buffered tail completed, but report the cut rather than the
                // decoder's generic truncation error.
                self.scratch.retain(|e| !matches!(e, StreamEvent::Error(_)));
                self.scratch.push(StreamEvent::Error(error));
                self.finished = true;
            }
            None => {
                self.decoder.finish(&mut self.scratch);
                self.finished = true;
            }
        }
        for event in self.scratch.drain(..) {
            let event = match event {
                StreamEvent::Error(e) => StreamEvent::Error(self.core.upstream_error(e)),
                other => other,
            };
            self.pending.push_back(event);
        }
    }

    fn fail(&mut self, error: ProviderError) {
        self.pending.push_back(StreamEvent::Error(
            error.with_provider(&self.core.config.id),
        ));
        self.finished = true;
    }
}

impl Drop for Upstream {
    /// Whatever way the stream ends — finished, failed or dropped by a departed client — the
    /// tokens it used are charged to the tokens-per-minute budget.
    fn drop(&mut self) {
        let used = self.usage.map(total_tokens).unwrap_or(0);
        self.core.limiter.reconcile(self.estimated_tokens, used);
    }
}
