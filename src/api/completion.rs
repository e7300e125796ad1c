//! What the two completion routes share, whichever wire format they speak to the client:
//! `/v1/chat/completions` (OpenAI's) and `/v1/messages` (Anthropic's).
//!
//! - [`Recorder`] counts one completion in the metrics, by provider and upstream model.
//! - [`sse_body`] turns the engine's event stream into an SSE body with any [`StreamEncode`]:
//!   one chunk per event the moment it arrives, the encoder's end after the last, and the
//!   completion recorded (with the usage seen so far) whenever the body is dropped — at the end,
//!   after an error, or when the client went away, which also drops the upstream stream so the
//!   upstream stops generating.
//! - [`sse_response`] is a 200 with the headers an SSE stream needs through proxies.
//! - [`json_answer`] is a non-streamed answer: the model name the client sent, the upstream's
//!   headers, and the overhead report.
//! - [`overhead`] measures Moxxy's own time per completion for its header and histogram.

pub mod overhead;

use std::convert::Infallible;

use actix_web::http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, HttpResponseBuilder};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use moxxy_actors::provider::{EventStream, StreamEncode, UpstreamMeta};
use moxxy_actors::{ErrorKind, ProviderError, StreamEvent, Usage};

use self::overhead::Arrival;
use super::metrics::{CompletionRoute, Delivery, Metrics};
use crate::shutdown::{cut_off, Shutdown, SHUTTING_DOWN};

/// A non-streamed answer of either completion route: `body` (the client's wire format) with the
/// model named as the client sent it (`sent`), the upstream's headers as `upstream_headers`
/// renders them for this route, and Moxxy's overhead in its header and histogram.
pub fn json_answer(
    mut body: serde_json::Value,
    sent: String,
    upstream_headers: impl FnOnce(&mut HttpResponseBuilder, &UpstreamMeta),
    metrics: &Metrics,
    route: CompletionRoute,
    arrival: Arrival,
    meta: &UpstreamMeta,
) -> HttpResponse {
    if let Some(object) = body.as_object_mut() {
        object.insert("model".into(), serde_json::Value::String(sent));
    }
    let mut response = HttpResponse::Ok();
    upstream_headers(&mut response, meta);
    let mut response = response.json(body);
    overhead::report(
        &mut response,
        metrics,
        route,
        Delivery::Complete,
        arrival,
        meta,
    );
    response
}

/// Counts one completion in the metrics, by provider and upstream model.
pub struct Recorder {
    metrics: Metrics,
    provider: String,
    model: String,
}

impl Recorder {
    /// A recorder for a completion sent to `provider` for its `model` (the upstream id).
    pub fn new(metrics: Metrics, provider: &str, model: &str) -> Self {
        Recorder {
            metrics,
            provider: provider.to_string(),
            model: model.to_string(),
        }
    }

    /// Records the completion's end: its usage, if any was reported, and its error, if it failed.
    pub fn finish(&self, usage: Option<&Usage>, error: Option<&ErrorKind>) {
        self.metrics
            .record_completion(&self.provider, &self.model, usage, error);
    }
}

/// A 200 for an SSE stream: `text/event-stream`, no caching, and no buffering by proxies
/// (`x-accel-buffering: no`), so each event reaches the client as it is written.
pub fn sse_response() -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((CONTENT_TYPE, "text/event-stream"))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"));
    response
}

/// Appends a header, skipping a name or value that is not valid in HTTP (an upstream's header
/// is never worth failing an answer for).
pub fn append_header(response: &mut HttpResponseBuilder, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::try_from(name),
        HeaderValue::try_from(value.to_string()),
    ) {
        response.append_header((name, value));
    }
}

/// The SSE body: one chunk per event that produces bytes, then the encoder's end. Events that
/// produce nothing yet (usage an encoder holds until the end) are skipped rather than sent as
/// empty chunks. A stream still going when the server's shutdown grace period ends gets the
/// error event `The server is shutting down - retry the request` in its protocol, and its
/// upstream request is dropped.
pub fn sse_body<E>(
    events: EventStream,
    encoder: E,
    recorder: Recorder,
    shutdown: &Shutdown,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static
where
    E: StreamEncode + 'static,
{
    let events: EventStream = Box::pin(cut_off(events, shutdown.cut(), || {
        StreamEvent::Error(ProviderError::new(ErrorKind::Unavailable, SHUTTING_DOWN))
    }));
    /// The body's state. Its drop — at the end, after an error, or when the client left — records
    /// the completion with the usage seen so far.
    struct Body<E> {
        events: EventStream,
        encoder: E,
        done: bool,
        recorder: Recorder,
        usage: Option<Usage>,
        error: Option<ErrorKind>,
    }
    impl<E> Drop for Body<E> {
        fn drop(&mut self) {
            self.recorder
                .finish(self.usage.as_ref(), self.error.as_ref());
        }
    }
    let body = Body {
        events,
        encoder,
        done: false,
        recorder,
        usage: None,
        error: None,
    };
    futures_util::stream::unfold(body, |mut body| async move {
        if body.done {
            return None;
        }
        let mut out = Vec::new();
        while out.is_empty() {
            match body.events.next().await {
                Some(event) => {
                    match &event {
                        StreamEvent::Usage(usage) => body.usage = Some(*usage),
                        StreamEvent::Error(e) => body.error = Some(e.kind.clone()),
                        _ => {}
                    }
                    body.encoder.encode(&event, &mut out);
                }
                None => {
                    body.done = true;
                    body.encoder.finish(&mut out);
                    break;
                }
            }
        }
        if out.is_empty() {
            return None;
        }
        Some((Ok(Bytes::from(out)), body))
    })
}
