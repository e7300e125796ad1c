//! `POST /v1/messages`: the Anthropic Messages API in front of every provider.
//!
//! The body is parsed with the engine's Anthropic inbound decoder, the model name is routed
//! ([`crate::routing`]), and the provider actor answers in unified types that are encoded back to
//! Anthropic's format, whatever protocol the upstream spoke. The client sees the model name it
//! sent. So the Anthropic SDKs, and the tools built on them, work unchanged against Anthropic,
//! OpenAI, Ollama and any OpenAI-compatible provider: they need only a base URL and a `mox_`
//! token in `x-api-key` (or `Authorization: Bearer`).
//!
//! Towards Anthropic itself the request is re-encoded as little as the unified types allow: the
//! decoder keeps every field it does not model in `extra` (marked as Anthropic's), and the
//! Anthropic encoder replays them, so `cache_control` breakpoints and thinking blocks with their
//! signatures reach the upstream byte for byte.
//!
//! Streams are end to end, as on `/v1/chat/completions` (see [`super::completion`]): the answer
//! starts once the upstream's first real event has arrived, so an early failure is still a proper
//! HTTP error; each event then goes out as Anthropic's `message_start` … `message_stop` sequence
//! the moment it arrives, and a client that leaves cancels the upstream request.
//!
//! Every error of this route is in Anthropic's shape ([`MessagesError`]), which is why the
//! handler authenticates itself rather than taking the [`crate::auth::Caller`] extractor (whose
//! rejection renders the rest of the API's shape).

mod error;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use moxxy_actors::provider::anthropic::{self, StreamEncoder};
use moxxy_actors::provider::{self, UpstreamMeta};

pub use self::error::MessagesError;
use self::error::REQUEST_ID_HEADER;
use super::completion::overhead::{self, Arrival};
use super::completion::{append_header, json_answer, sse_body, sse_response, Recorder};
use super::error::current_request_id;
use super::metrics::{CompletionRoute, Delivery};
use super::{body, AppState};
use crate::auth::{self, token::Scope};
use crate::routing;

/// This route, as the overhead histogram labels it.
const ROUTE: CompletionRoute = CompletionRoute::Messages;

/// `POST /v1/messages`: routes the model the client named and answers with one Anthropic
/// `message`, or with Anthropic's SSE event stream when the body says `"stream": true`.
pub async fn messages(
    state: web::Data<AppState>,
    req: HttpRequest,
    arrival: Arrival,
    payload: web::Payload,
) -> Result<HttpResponse, MessagesError> {
    auth::authenticate(&state, &req)?.require(Scope::Chat)?;
    let bytes = body::read_limited(payload, state.config.server.body_limit_bytes).await?;
    let mut chat =
        anthropic::decode_request(&bytes).map_err(|e| MessagesError::from_provider(e, ""))?;
    let sent = std::mem::take(&mut chat.model);
    let route = routing::resolve(&sent, &state.directory.snapshot(), &state.config.aliases)?;
    chat.model = route.model;
    let recorder = Recorder::new(state.metrics.clone(), &route.provider, &chat.model);
    if chat.stream {
        let (events, meta) = provider::stream(&route.addr, chat).await.map_err(|e| {
            recorder.finish(None, Some(&e.kind));
            MessagesError::from_provider(e, &sent)
        })?;
        let mut response = sse_response();
        upstream_headers(&mut response, &meta);
        let encoder = StreamEncoder::new(&sent);
        let mut response = response.streaming(sse_body(events, encoder, recorder, &state.shutdown));
        let stream = Delivery::Stream;
        overhead::report(&mut response, &state.metrics, ROUTE, stream, arrival, &meta);
        Ok(response)
    } else {
        let (answer, meta) = provider::complete(&route.addr, chat).await.map_err(|e| {
            recorder.finish(None, Some(&e.kind));
            MessagesError::from_provider(e, &sent)
        })?;
        recorder.finish(answer.usage.as_ref(), None);
        let body = anthropic::encode_response(&answer);
        Ok(json_answer(
            body,
            sent,
            upstream_headers,
            &state.metrics,
            ROUTE,
            arrival,
            &meta,
        ))
    }
}

/// `request-id` (the header the Anthropic SDKs read; equal to `x-request-id`), and the
/// upstream's rate-limit state as it came: Anthropic's `anthropic-ratelimit-*` or OpenAI-style
/// `x-ratelimit-*`. `retry-after` on a success means nothing and is dropped.
fn upstream_headers(response: &mut HttpResponseBuilder, meta: &UpstreamMeta) {
    if let Ok(id) = HeaderValue::from_str(&current_request_id()) {
        response.insert_header((HeaderName::from_static(REQUEST_ID_HEADER), id));
    }
    for (name, value) in &meta.rate_limit_headers {
        if name.starts_with("anthropic-ratelimit-") || name.starts_with("x-ratelimit-") {
            append_header(response, name, value);
        }
    }
}
