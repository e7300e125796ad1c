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

use std::time::SystemTime;

use actix_web::{web, HttpResponse, HttpResponseBuilder};
use moxxy_actors::provider::openai::{self, StreamEncoder};
use moxxy_actors::provider::{self, UpstreamMeta};
use moxxy_actors::{ErrorKind, ProviderError};

use super::completion::overhead::{self, Arrival};
use super::completion::{append_header, json_answer, sse_body, sse_response, Recorder};
use super::metrics::{CompletionRoute, Delivery};
use super::{body, ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;
use crate::routing;

/// This route, as the overhead histogram labels it.
const ROUTE: CompletionRoute = CompletionRoute::ChatCompletions;

/// `POST /v1/chat/completions`: routes the model the client named and answers with one
/// `chat.completion`, or with an SSE stream of chunks when the body says `"stream": true`.
pub async fn chat_completions(
    state: web::Data<AppState>,
    caller: Caller,
    arrival: Arrival,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Chat)?;
    let body = body::read_limited(payload, state.config.server.body_limit_bytes).await?;
    let mut req = openai::decode_request(&body)?;
    let sent = std::mem::take(&mut req.model);
    let route = routing::resolve(&sent, &state.directory.snapshot(), &state.config.aliases)?;
    req.model = route.model;
    let recorder = Recorder::new(state.metrics.clone(), &route.provider, &req.model);
    if req.stream {
        let include_usage = req.include_usage;
        let (events, meta) = provider::stream(&route.addr, req).await.map_err(|e| {
            recorder.finish(None, Some(&e.kind));
            upstream_error(e, &sent)
        })?;
        let mut response = sse_response();
        rate_limit_headers(&mut response, &meta);
        let encoder = StreamEncoder::new(&sent, include_usage);
        let mut response = response.streaming(sse_body(events, encoder, recorder, &state.shutdown));
        let stream = Delivery::Stream;
        overhead::report(&mut response, &state.metrics, ROUTE, stream, arrival, &meta);
        Ok(response)
    } else {
        let (answer, meta) = provider::complete(&route.addr, req).await.map_err(|e| {
            recorder.finish(None, Some(&e.kind));
            upstream_error(e, &sent)
        })?;
        recorder.finish(answer.usage.as_ref(), None);
        let body = openai::encode_response(&answer);
        Ok(json_answer(
            body,
            sent,
            rate_limit_headers,
            &state.metrics,
            ROUTE,
            arrival,
            &meta,
        ))
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

/// Passes the upstream's rate-limit state on, in OpenAI's `x-ratelimit-*` names as the OpenAI SDKs
/// read them. OpenAI-style headers go as they came; Anthropic's `anthropic-ratelimit-*` are kept
/// and also given in OpenAI's names. `retry-after` on a success means nothing and is dropped.
fn rate_limit_headers(response: &mut HttpResponseBuilder, meta: &UpstreamMeta) {
    for (name, value) in &meta.rate_limit_headers {
        if name.starts_with("x-ratelimit-") || name.starts_with("anthropic-ratelimit-") {
            append_header(response, name, value);
        }
        if let Some((openai_name, openai_value)) = anthropic_as_openai(name, value) {
            append_header(response, &openai_name, &openai_value);
        }
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
