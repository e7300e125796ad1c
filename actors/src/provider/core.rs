//! The state one provider shares between all its requests, and the attempt loop.
//!
//! A [`ProviderCore`] is held in an `Arc`: the provider actor hands clones of it to the futures and
//! streams it gives out, so the HTTP I/O runs wherever the caller polls it and many requests run
//! at once. The core keeps what they share: the pooled HTTP client, the rate limiter, the cool-down
//! and the circuit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::config::{Credentials, ProviderConfig};
use super::oauth;
use super::protocol::Protocol;
use super::stream::{self, EventStream};
use super::transport;
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{ChatRequest, ChatResponse, Usage};
use crate::ratelimit::RateLimiter;
use crate::retry::{self, Circuit, CoolDown};

/// The upstream's rate-limit headers and request id of a successful answer, for the caller to
/// pass on (`x-ratelimit-*`), and how long the upstream took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamMeta {
    pub request_id: Option<String>,
    pub rate_limit_headers: Vec<(String, String)>,
    /// How long the answer was in the upstream's hands, so a caller can tell its own overhead
    /// (its total time minus this) from the upstream's latency.
    ///
    /// From the moment the first attempt's request is handed to the HTTP client to the moment
    /// the answer is in: for a non-streamed completion, its whole body read; for a stream, the
    /// bytes holding its first real event read (the moment the stream is handed back). Failed
    /// attempts, the back-off and cool-down waits between them and an OAuth refresh after a 401
    /// fall inside it, since the upstream caused them; the rate limiter's wait before the first
    /// attempt, encoding the request and decoding the answer fall outside: they are Moxxy's own.
    pub upstream_time: Duration,
}

/// What one provider's requests share.
pub struct ProviderCore {
    pub(crate) config: ProviderConfig,
    pub(crate) protocol: Protocol,
    client: reqwest::Client,
    pub(crate) limiter: RateLimiter,
    cooldown: CoolDown,
    circuit: Circuit,
    /// Whether the last attempt reached the upstream (any HTTP answer counts); false after a
    /// connection failure, so the provider's status can say `unreachable`.
    reachable: AtomicBool,
}

impl std::fmt::Debug for ProviderCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderCore")
            .field("id", &self.config.id)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// A ready-to-send request: the encoded body and the facts the attempt loop needs.
struct Prepared {
    url: String,
    headers: HeaderMap,
    body: Value,
    model: String,
    estimated_tokens: u64,
}

impl ProviderCore {
    /// Builds the core: the HTTP client (pooled, keep-alive, `TCP_NODELAY`, no redirects, so a key
    /// is never forwarded to another host), the limiter and fresh retry state.
    pub fn new(config: ProviderConfig) -> Result<Self, ProviderError> {
        let client = transport::build_client(&config)?;
        Ok(ProviderCore {
            protocol: Protocol::for_config(&config),
            limiter: RateLimiter::new(&config.rate_limit),
            cooldown: CoolDown::default(),
            circuit: Circuit::new(config.circuit.clone()),
            reachable: AtomicBool::new(true),
            client,
            config,
        })
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The pooled HTTP client, for the other requests the provider makes (its model list).
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The shared "not before" instant set by the upstream's rate-limit answers, if any is ahead.
    pub fn cooling_down_until(&self) -> Option<Instant> {
        self.cooldown
            .until()
            .filter(|until| *until > Instant::now())
    }

    /// Whether the last attempt reached the upstream.
    pub fn is_reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// Records whether the upstream answered a check made outside a completion (Ollama's
    /// discovery probe), so the status says `unreachable` while it is down and `ready` once it
    /// is back, without waiting for a request to find out.
    pub fn set_reachable(&self, reachable: bool) {
        self.reachable.store(reachable, Ordering::Relaxed);
    }

    /// The pooled client, for the provider's own non-completion requests (the Ollama probe).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.client
    }

    /// The circuit's state now.
    pub fn circuit_state(&self) -> retry::CircuitState {
        self.circuit.state(Instant::now())
    }

    /// A non-streamed completion.
    pub async fn complete(
        self: Arc<Self>,
        mut req: ChatRequest,
    ) -> Result<(ChatResponse, UpstreamMeta), ProviderError> {
        req.stream = false;
        let prepared = self.prepare(&req)?;
        let estimated = prepared.estimated_tokens;
        let ((response, mut meta), upstream_time) = Arc::clone(&self)
            .run_attempts(prepared, |core, response| async move {
                let meta = core.meta(response.headers());
                let body = transport::read_body(response, transport::MAX_RESPONSE_BYTES)
                    .await
                    .map_err(|e| core.transport_error(e))?;
                let received = Instant::now();
                if body.truncated {
                    return Err(core.upstream_error(transport::too_large(&core.config.id)));
                }
                let mut answer = core
                    .protocol
                    .decode_response(&body.bytes)
                    .map_err(|e| core.upstream_error(e))?;
                answer.request_id.clone_from(&meta.request_id);
                Ok(((answer, meta), received))
            })
            .await?;
        meta.upstream_time = upstream_time;
        self.limiter
            .reconcile(estimated, response.usage.map(total_tokens).unwrap_or(0));
        Ok((response, meta))
    }

    /// A streamed completion. Resolves once the upstream has sent its first real event (so an
    /// early error is a proper error, and can still be retried); the stream then yields the rest.
    pub async fn stream(
        self: Arc<Self>,
        mut req: ChatRequest,
    ) -> Result<(EventStream, UpstreamMeta), ProviderError> {
        req.stream = true;
        let prepared = self.prepare(&req)?;
        let estimated = prepared.estimated_tokens;
        let ((stream, mut meta), upstream_time) = self
            .run_attempts(prepared, move |core, response| async move {
                let meta = core.meta(response.headers());
                let (stream, first_event) = stream::open(core, response, estimated).await?;
                Ok(((stream, meta), first_event))
            })
            .await?;
        meta.upstream_time = upstream_time;
        Ok((stream, meta))
    }

    fn prepare(&self, req: &ChatRequest) -> Result<Prepared, ProviderError> {
        let id = &self.config.id;
        if self.config.needs_credentials() && self.config.credentials == Credentials::None {
            return Err(
                ProviderError::no_credentials(id, self.config.key_env_hint.as_deref())
                    .with_provider(id),
            );
        }
        if !self.config.models.is_empty() && !self.config.models.contains(&req.model) {
            return Err(ProviderError::model_not_found(&req.model).with_provider(id));
        }
        let body = self
            .protocol
            .encode_request(req)
            .map_err(|e| e.with_provider(id))?;
        Ok(Prepared {
            url: self.protocol.chat_url(&self.config.base_url),
            headers: self.protocol.headers(&self.config)?,
            body,
            model: req.model.clone(),
            estimated_tokens: req.estimated_input_tokens(),
        })
    }

    /// Sends `prepared` until it succeeds or the retry policy gives up. `handle` turns a 2xx
    /// response into the result and the instant the upstream's part of it ended; its errors are
    /// retried like any other, which is safe because nothing has reached the caller yet.
    /// Answers the result and the upstream time ([`UpstreamMeta::upstream_time`]).
    async fn run_attempts<T, F, Fut>(
        self: Arc<Self>,
        mut prepared: Prepared,
        handle: F,
    ) -> Result<(T, Duration), ProviderError>
    where
        F: Fn(Arc<Self>, reqwest::Response) -> Fut,
        Fut: std::future::Future<Output = Result<(T, Instant), ProviderError>>,
    {
        let policy = &self.config.retry;
        let started = Instant::now();
        self.limiter
            .acquire(prepared.estimated_tokens, policy.max_total_wait)
            .await
            .map_err(|e| e.with_provider(&self.config.id))?;
        let mut body = Bytes::from(serde_json::to_vec(&prepared.body).unwrap_or_default());
        let mut stripped_param = false;
        let mut reauthorized = false;
        let mut attempt = 0;
        let mut first_send: Option<Instant> = None;
        loop {
            let waited = started.elapsed();
            let remaining_wait = policy.max_total_wait.saturating_sub(waited);
            self.cooldown
                .wait(remaining_wait)
                .await
                .map_err(|e| e.with_provider(&self.config.id))?;
            let (headers, generation) = oauth::authorize(
                &self.config.credentials,
                &self.client,
                &self.config.id,
                &prepared.headers,
            )
            .await?;
            let permit = self.circuit.acquire(Instant::now()).map_err(|mut e| {
                // Anthropic's error shape has no provider field: the message names it.
                e.message = format!(
                    "Provider '{}' is unavailable: {}",
                    self.config.id, e.message
                );
                e.with_provider(&self.config.id)
            })?;
            let sent = *first_send.get_or_insert_with(Instant::now);
            let result = self
                .attempt(&prepared, headers, body.clone(), &handle)
                .await;
            let error = match result {
                Ok((value, upstream_done)) => {
                    self.circuit.record(permit, Ok(()));
                    return Ok((value, upstream_done.saturating_duration_since(sent)));
                }
                Err(error) => error,
            };
            self.circuit.record(permit, Err(&error));
            tracing::debug!(
                provider = %self.config.id,
                attempt,
                kind = ?error.kind,
                status = ?error.status,
                "upstream attempt failed"
            );
            // An OAuth token the upstream rejected: refresh once, then send once more.
            if let (Some(generation), false, Some(401)) = (generation, reauthorized, error.status) {
                reauthorized = true;
                oauth::reauthorize(
                    &self.config.credentials,
                    &self.client,
                    &self.config.id,
                    generation,
                )
                .await?;
                continue;
            }
            // OpenAI-style upstreams name a parameter the model does not take: send again once
            // without it (PROTOCOLS.md §2.2).
            if !stripped_param {
                if let Some(param) = unsupported_param(&error) {
                    if let Some(obj) = prepared.body.as_object_mut() {
                        if obj.remove(&param).is_some() {
                            stripped_param = true;
                            body =
                                Bytes::from(serde_json::to_vec(&prepared.body).unwrap_or_default());
                            continue;
                        }
                    }
                }
            }
            match policy.next_delay(attempt, &error, started.elapsed()) {
                Some(delay) => {
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                }
                None => return Err(error),
            }
        }
    }

    /// One HTTP exchange: send, then either hand a 2xx to `handle` or decode the error.
    async fn attempt<T, F, Fut>(
        self: &Arc<Self>,
        prepared: &Prepared,
        headers: HeaderMap,
        body: Bytes,
        handle: &F,
    ) -> Result<T, ProviderError>
    where
        F: Fn(Arc<Self>, reqwest::Response) -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let exchange = async {
            let response = self
                .client
                .post(&prepared.url)
                .headers(headers)
                .body(body)
                .send()
                .await
                .map_err(|e| {
                    let error = self.transport_error(e);
                    if error.kind == ErrorKind::Unreachable {
                        self.reachable.store(false, Ordering::Relaxed);
                    }
                    error
                })?;
            self.reachable.store(true, Ordering::Relaxed);
            let status = response.status();
            if status.is_success() {
                self.note_rate_limits(response.headers());
                return handle(Arc::clone(self), response).await;
            }
            Err(self.error_response(response, &prepared.model).await)
        };
        match tokio::time::timeout(self.config.timeouts.request, exchange).await {
            Ok(result) => result,
            Err(_) => Err(self.timeout_error()),
        }
    }

    /// Turns a non-2xx answer into an error: decoded by the protocol, redacted, with the retry
    /// hints of its headers, and feeding the shared cool-down.
    async fn error_response(&self, response: reqwest::Response, model: &str) -> ProviderError {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // An error body is only read for its message: its first 64 KiB are plenty.
        let body = transport::read_body(response, 64 * 1024)
            .await
            .map(|b| b.bytes)
            .unwrap_or_default();
        let mut error = self.protocol.decode_error(status, &body, model);
        error.status = Some(status);
        let now = SystemTime::now();
        if let Some(after) = retry::retry_after(&headers, now) {
            error.retry_after = Some(after);
        }
        if let Some(flag) = retry::should_retry(&headers) {
            error.should_retry = Some(flag);
        }
        if error.request_id.is_none() {
            error.request_id = header_str(&headers, self.protocol.request_id_header());
        }
        if matches!(error.kind, ErrorKind::RateLimited | ErrorKind::Overloaded) {
            let hint = error
                .retry_after
                .or_else(|| retry::exhausted_until(&headers, now));
            if let Some(wait) = hint.filter(|w| *w <= self.config.retry.max_retry_after) {
                self.cooldown.extend_until(Instant::now() + wait);
            }
        }
        self.upstream_error(error)
    }

    /// After a success: when the headers say a bucket is empty, later requests wait for it.
    fn note_rate_limits(&self, headers: &HeaderMap) {
        if let Some(wait) = retry::exhausted_until(headers, SystemTime::now()) {
            if wait <= self.config.retry.max_retry_after {
                self.cooldown.extend_until(Instant::now() + wait);
            }
        }
    }

    fn meta(&self, headers: &HeaderMap) -> UpstreamMeta {
        UpstreamMeta {
            request_id: header_str(headers, self.protocol.request_id_header()),
            rate_limit_headers: retry::passthrough_headers(headers),
            // Known once the answer is in: `run_attempts` measures it.
            upstream_time: Duration::ZERO,
        }
    }

    /// Attributes an upstream error to this provider and removes any echo of its key from what
    /// reaches the client or a log: the message, and the `param` and type the upstream named.
    pub(crate) fn upstream_error(&self, mut error: ProviderError) -> ProviderError {
        use crate::secret::redact;
        for secret in self.config.credentials.secrets() {
            error.message = redact(&error.message, Some(&secret));
            error.param = error.param.map(|p| redact(&p, Some(&secret)));
            error.upstream_type = error.upstream_type.map(|t| redact(&t, Some(&secret)));
        }
        error.with_provider(&self.config.id)
    }

    pub(crate) fn transport_error(&self, error: reqwest::Error) -> ProviderError {
        transport::classify(&self.config, error)
    }

    pub(crate) fn timeout_error(&self) -> ProviderError {
        ProviderError::new(
            ErrorKind::Timeout,
            format!(
                "Provider '{}' did not answer within {}",
                self.config.id,
                crate::error::describe_duration(self.config.timeouts.request)
            ),
        )
        .with_provider(&self.config.id)
    }

    pub(crate) fn stream_idle_timeout(&self) -> Duration {
        self.config.timeouts.stream_idle
    }
}

/// Input plus output tokens, what a tokens-per-minute budget counts.
pub(crate) fn total_tokens(usage: Usage) -> u64 {
    usage.input_tokens + usage.output_tokens
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The parameter an upstream rejected as unsupported for the model, if that is what it said.
fn unsupported_param(error: &ProviderError) -> Option<String> {
    let unsupported = matches!(
        error.upstream_type.as_deref(),
        Some("unsupported_parameter" | "unsupported_value")
    );
    if error.kind != ErrorKind::InvalidRequest || !unsupported {
        return None;
    }
    let param = error.param.as_deref()?;
    // Never strip what the request cannot do without.
    (!matches!(param, "model" | "messages" | "stream")).then(|| param.to_string())
}
