//! A streamed answer as a `Stream` of [`StreamEvent`]s.
//!
//! The stream is opened only once the upstream has sent its first real event (text, thinking, a
//! tool call, a stop or an error — not just `Start`/`Usage`): an upstream that answers 200 and then
//! an error becomes a proper error the attempt loop can retry, and nothing has reached the caller
//! yet. After that, bytes are decoded as they arrive and each event is yielded at once; silence
//! longer than the idle timeout ends the stream with an error event. Dropping the stream drops the
//! upstream response, which closes its connection: the upstream stops generating.
//!
//! Two guards keep a misbehaving upstream from hurting the gateway: a body that runs on for
//! [`MAX_EVENT_BYTES`] without completing a single event (a line that never ends) is abandoned
//! with an error rather than buffered whole; and an SSE upstream that answers a streamed request
//! with a JSON body (an error object with status 200, or a whole answer from a server that
//! ignored `"stream": true`) is decoded as such, so the caller gets the upstream's own error, not
//! "the stream ended early" (an event stream merely labelled JSON is still read as a stream).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::core::{total_tokens, ProviderCore};
use super::protocol::Protocol;
use super::{transport, StreamDecode};
use crate::error::{describe_duration, ErrorKind, ProviderError};
use crate::messages::{
    arguments_to_text, ChatResponse, ContentPart, StreamEvent, ThinkingDelta, Usage,
};

/// The most a stream may send without completing one event: the bound of a whole non-streamed
/// answer. Past it the decoder would only buffer a line that may never end.
const MAX_EVENT_BYTES: usize = transport::MAX_RESPONSE_BYTES;

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
    /// Bytes fed to the decoder since it last completed an event.
    unfinished_bytes: usize,
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
    let json_answer = core.protocol != Protocol::Ollama && is_json(response.headers());
    let mut upstream = Upstream {
        body: Box::pin(futures_util::stream::empty()),
        decoder,
        pending: VecDeque::new(),
        scratch: Vec::new(),
        finished: false,
        estimated_tokens,
        usage: None,
        unfinished_bytes: 0,
        core,
    };
    if json_answer {
        match json_body(&upstream.core, response).await? {
            JsonBody::Answer(answer) => {
                upstream.pending = answer_events(answer).into();
                upstream.finished = true;
                return Ok((into_stream(upstream), Instant::now()));
            }
            JsonBody::Mislabelled(bytes) => {
                // An event stream labelled JSON: it has arrived whole, so it is decoded whole.
                upstream.decoder.feed(&bytes, &mut upstream.scratch);
                upstream.decoder.finish(&mut upstream.scratch);
                upstream.finished = true;
                upstream.take_scratch();
            }
        }
    } else {
        upstream.body = Box::pin(response.bytes_stream());
    }
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
    Ok((into_stream(upstream), first_event))
}

fn into_stream(upstream: Upstream) -> EventStream {
    Box::pin(futures_util::stream::unfold(
        upstream,
        |mut upstream| async move { upstream.next_event().await.map(|e| (e, upstream)) },
    ))
}

/// Whether the response says its body is JSON (not `text/event-stream`).
fn is_json(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || v.ends_with("+json")
        })
}

/// A JSON-labelled body given to a streamed request.
enum JsonBody {
    /// A whole answer.
    Answer(ChatResponse),
    /// Not JSON at all (it does not start with `{` or `[`): an event stream with the wrong
    /// label, to be decoded as one.
    Mislabelled(bytes::Bytes),
}

/// Reads a JSON body given to a streamed request and decodes it as a whole answer: an error
/// object becomes that error (retryable like any other, since nothing reached the caller).
async fn json_body(
    core: &ProviderCore,
    response: reqwest::Response,
) -> Result<JsonBody, ProviderError> {
    let body = transport::read_body(response, MAX_EVENT_BYTES)
        .await
        .map_err(|e| core.transport_error(e))?;
    if body.truncated {
        return Err(core.upstream_error(transport::too_large(&core.config.id)));
    }
    let first = body.bytes.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[')) {
        return Ok(JsonBody::Mislabelled(body.bytes));
    }
    core.protocol
        .decode_response(&body.bytes)
        .map(JsonBody::Answer)
        .map_err(|e| core.upstream_error(e))
}

/// A whole answer as the events a stream of it would have given.
fn answer_events(answer: ChatResponse) -> Vec<StreamEvent> {
    let mut events = vec![StreamEvent::Start {
        id: answer.id,
        model: answer.model,
    }];
    let mut index = 0;
    for part in answer.content {
        let before = events.len();
        match part {
            ContentPart::Text { text, .. } if !text.is_empty() => {
                events.push(StreamEvent::TextDelta { index, text });
            }
            ContentPart::Thinking { text, signature } => {
                if !text.is_empty() {
                    events.push(StreamEvent::ThinkingDelta {
                        index,
                        delta: ThinkingDelta::Text(text),
                    });
                }
                if let Some(signature) = signature.filter(|s| !s.is_empty()) {
                    events.push(StreamEvent::ThinkingDelta {
                        index,
                        delta: ThinkingDelta::Signature(signature),
                    });
                }
            }
            ContentPart::RedactedThinking { data } => events.push(StreamEvent::ThinkingDelta {
                index,
                delta: ThinkingDelta::Redacted(data),
            }),
            ContentPart::ToolCall {
                id,
                name,
                arguments,
                extra,
            } => events.push(StreamEvent::ToolCallDelta {
                index,
                id: Some(id),
                name: Some(name),
                arguments: arguments_to_text(&arguments),
                extra,
            }),
            _ => {}
        }
        if events.len() > before {
            index += 1;
        }
    }
    if let Some(usage) = answer.usage {
        events.push(StreamEvent::Usage(usage));
    }
    events.push(StreamEvent::Stop {
        reason: answer.stop_reason,
        stop_sequence: answer.stop_sequence,
    });
    events
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
                    let error = ProviderError::new(
                        ErrorKind::Timeout,
                        format!(
                            "Provider '{}' sent nothing for {}; the stream was abandoned",
                            self.core.config.id,
                            describe_duration(self.core.stream_idle_timeout())
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
            Some(Ok(bytes)) => {
                self.decoder.feed(&bytes, &mut self.scratch);
                if self.scratch.is_empty() {
                    self.unfinished_bytes = self.unfinished_bytes.saturating_add(bytes.len());
                } else {
                    self.unfinished_bytes = 0;
                }
                if self.unfinished_bytes > MAX_EVENT_BYTES {
                    let error = ProviderError::new(
                        ErrorKind::Upstream,
                        format!(
                            "Provider '{}' sent more than {} MiB without completing an event; \
                             the stream was abandoned",
                            self.core.config.id,
                            MAX_EVENT_BYTES / (1024 * 1024)
                        ),
                    );
                    self.fail(error);
                    return;
                }
            }
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
        self.take_scratch();
    }

    /// Moves what the decoder completed into `pending`, attributing (and redacting) its errors.
    fn take_scratch(&mut self) {
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
