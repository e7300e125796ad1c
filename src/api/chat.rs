//! `POST /v1/chat/completions`: the OpenAI Chat Completions API in front of every provider.
//!
//! The body is parsed with the engine's OpenAI inbound decoder, the model name is routed
//! ([`crate::routing`]), and the provider actor answers in unified types that are encoded back to
//! OpenAI's format, whatever protocol the upstream spoke. The client sees the model name it sent,
//! so SDKs that check it find what they asked for.
//!
//! Streams are end to end: the engine resolves only once the upstream's first real event has
//! arrived (so an early failure is still a proper HTTP error, 429 and `Retry-After` included);
//! after that each event is encoded and handed to actix as its own chunk the moment it arrives.
//! When the client goes away actix drops the body, which drops the engine's stream, which closes
//! the upstream connection: the upstream stops generating.

use std::convert::Infallible;
use std::time::SystemTime;

use actix_web::http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{web, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use moxxy_actors::provider::openai::{self, StreamEncoder};
use moxxy_actors::provider::{self, EventStream, StreamEncode, UpstreamMeta};
use moxxy_actors::{ErrorKind, ProviderError, StreamEvent};
use serde_json::Value;

use super::{ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;
use crate::routing;

/// `POST /v1/chat/completions`: routes the model the client named and answers with one
/// `chat.completion`, or with an SSE stream of chunks when the body says `"stream": true`.
pub async fn chat_completions(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Chat)?;
    let mut req = openai::decode_request(&body)?;
    let sent = std::mem::take(&mut req.model);
    let route = routing::resolve(&sent, &state.directory.snapshot(), &state.config.aliases)?;
    req.model = route.model;
    let recorder = Recorder {
        metrics: state.metrics.clone(),
        provider: route.provider.clone(),
        model: req.model.clone(),
    };
    if req.stream {
        let include_usage = req.include_usage;
        let (events, meta) = provider::stream(&route.addr, req).await.map_err(|e| {
            recorder.finish(None, Some(&e.kind));
            upstream_error(e, &sent)
        })?;
        let mut response = HttpResponse::Ok();
        response
            .insert_header((CONTENT_TYPE, "text/event-stream"))
            .insert_header((CACHE_CONTROL, "no-cache"))
            .insert_header(("x-accel-buffering", "no"));
        rate_limit_headers(&mut response, &meta);
        let encoder = StreamEncoder::new(&sent, include_usage);
        Ok(response.streaming(sse_body(events, encoder, recorder)))
    } else {
        let (answer, meta) = provider::complete(&route.addr, req).await.map_err(|e| {
            recorder.finish(None, Some(&e.kind));
            upstream_error(e, &sent)
        })?;
        recorder.finish(answer.usage.as_ref(), None);
        let mut body = openai::encode_response(&answer);
        if let Some(object) = body.as_object_mut() {
            object.insert("model".into(), Value::String(sent));
        }
        let mut response = HttpResponse::Ok();
        rate_limit_headers(&mut response, &meta);
        Ok(response.json(body))
    }
}

/// An engine error as the client sees it. The upstream's "model not found" names the upstream's
/// id (`llama3:latest`); the client is told about the name it sent (`ollama/llama3`), as
/// documented.
fn upstream_error(error: ProviderError, sent: &str) -> ApiError {
    if error.kind == ErrorKind::ModelNotFound {
        let mut api = routing::model_not_found(sent);
        api.provider = error.provider;
        return api;
    }
    error.into()
}

/// Counts one completion in the metrics, by provider and upstream model.
struct Recorder {
    metrics: crate::api::metrics::Metrics,
    provider: String,
    model: String,
}

impl Recorder {
    fn finish(&self, usage: Option<&moxxy_actors::Usage>, error: Option<&ErrorKind>) {
        self.metrics
            .record_completion(&self.provider, &self.model, usage, error);
    }
}

/// The SSE body: one chunk per event that produces bytes, then the encoder's end (`[DONE]`, or
/// nothing more after an error chunk). Events that produce nothing yet (usage, held until the
/// end) are skipped rather than sent as empty chunks.
fn sse_body(
    events: EventStream,
    encoder: StreamEncoder,
    recorder: Recorder,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    /// The body's state. Its drop — at the end, after an error, or when the client left — records
    /// the completion with the usage seen so far.
    struct Body {
        events: EventStream,
        encoder: StreamEncoder,
        done: bool,
        recorder: Recorder,
        usage: Option<moxxy_actors::Usage>,
        error: Option<ErrorKind>,
    }
    impl Drop for Body {
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

/// Passes the upstream's rate-limit state on, in OpenAI's `x-ratelimit-*` names as the OpenAI SDKs
/// read them. OpenAI-style headers go as they came; Anthropic's `anthropic-ratelimit-*` are kept
/// and also given in OpenAI's names. `retry-after` on a success means nothing and is dropped.
fn rate_limit_headers(response: &mut HttpResponseBuilder, meta: &UpstreamMeta) {
    for (name, value) in &meta.rate_limit_headers {
        if name.starts_with("x-ratelimit-") || name.starts_with("anthropic-ratelimit-") {
            append(response, name, value);
        }
        if let Some((openai_name, openai_value)) = anthropic_as_openai(name, value) {
            append(response, &openai_name, &openai_value);
        }
    }
}

fn append(response: &mut HttpResponseBuilder, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::try_from(name),
        HeaderValue::try_from(value.to_string()),
    ) {
        response.append_header((name, value));
    }
}

/// `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` in OpenAI's naming
/// (`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`); Anthropic's RFC 3339 reset time
/// becomes OpenAI's duration until the reset (`12s`).
fn anthropic_as_openai(name: &str, value: &str) -> Option<(String, String)> {
    let rest = name.strip_prefix("anthropic-ratelimit-")?;
    let (bucket, field) = rest.split_once('-')?;
    if bucket != "requests" && bucket != "tokens" {
        return None;
    }
    let value = match field {
        "limit" | "remaining" => value.to_string(),
        "reset" => {
            let at = humantime::parse_rfc3339_weak(value).ok()?;
            let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
            format!("{}s", wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        }
        _ => return None,
    };
    Some((format!("x-ratelimit-{field}-{bucket}"), value))
}

#[cfg(test)]
mod tests {
    use super::anthropic_as_openai;

    #[test]
    fn anthropic_rate_limit_headers_get_openai_names() {
        let pair = |n: &str, v: &str| anthropic_as_openai(n, v);
        assert_eq!(
            pair("anthropic-ratelimit-requests-remaining", "49"),
            Some(("x-ratelimit-remaining-requests".into(), "49".into()))
        );
        assert_eq!(
            pair("anthropic-ratelimit-tokens-limit", "80000"),
            Some(("x-ratelimit-limit-tokens".into(), "80000".into()))
        );
        let past = pair("anthropic-ratelimit-tokens-reset", "2020-01-01T00:00:00Z");
        assert_eq!(past, Some(("x-ratelimit-reset-tokens".into(), "0s".into())));
        assert_eq!(pair("anthropic-ratelimit-input-tokens-limit", "1"), None);
        assert_eq!(pair("anthropic-ratelimit-tokens-reset", "soon"), None);
        assert_eq!(pair("x-ratelimit-limit-requests", "1"), None);
    }
}
