//! The load generator's HTTP side: one pooled HTTP/1.1 client (hyper, keep-alive,
//! `TCP_NODELAY`), and the requests of each workload.
//!
//! Why hyper and not an existing load tool: the workloads need things no maintained tool offers
//! together — open-loop arrival with latency from the scheduled time, the time of each streamed
//! event, a response header read per request, and thousands of held streams — and the lowest
//! possible cost per request, since the generator shares two cores with what it measures.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::BenchError;

/// The header moxxy reports its own overhead in.
pub const OVERHEAD_HEADER: &str = "x-moxxy-overhead-ms";

/// The pooled client every workload shares.
#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
}

/// How one request failed.
#[derive(Debug)]
pub enum Failure {
    /// Not a 2xx.
    Status(u16),
    /// Connect, write or read failed.
    Transport(String),
    Timeout,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Status(status) => write!(f, "HTTP {status}"),
            Failure::Transport(error) => write!(f, "transport: {error}"),
            Failure::Timeout => write!(f, "no answer within the request timeout"),
        }
    }
}

/// What an exchange returns: moxxy's overhead header, when it sent one.
pub struct Answer {
    pub overhead_ms: Option<f64>,
}

impl Client {
    pub fn new() -> Client {
        let mut connector = HttpConnector::new();
        // PITFALLS: a response in two writes waits for the delayed ACK without it.
        connector.set_nodelay(true);
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Client { inner }
    }

    /// Sends `target`'s request and reads the whole answer.
    pub async fn exchange(&self, target: &Target) -> Result<Answer, Failure> {
        let response = self
            .inner
            .request(target.request())
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let status = response.status();
        let overhead_ms = response
            .headers()
            .get(OVERHEAD_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = response.into_body().collect().await;
        body.map_err(|e| Failure::Transport(e.to_string()))?;
        if !status.is_success() {
            return Err(Failure::Status(status.as_u16()));
        }
        Ok(Answer { overhead_ms })
    }

    /// Sends `target`'s request and answers the response, for the caller to read as a stream.
    pub async fn open(
        &self,
        target: &Target,
    ) -> Result<hyper::Response<hyper::body::Incoming>, Failure> {
        let response = self
            .inner
            .request(target.request())
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Failure::Status(response.status().as_u16()));
        }
        Ok(response)
    }

    /// A JSON POST for set-up (tokens): status and parsed body.
    pub async fn post_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Result<(u16, Value), BenchError> {
        let target = Target::new(url, bearer, body)?;
        let response = self
            .inner
            .request(target.request())
            .await
            .map_err(|e| BenchError::Setup(format!("POST {url}: {e}")))?;
        let status = response.status().as_u16();
        let bytes = collect(response).await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// A GET for set-up and read-outs (`/metrics`).
    pub async fn get_text(&self, url: &str, bearer: Option<&str>) -> Result<String, BenchError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| BenchError::Setup(format!("{url}: {e}")))?;
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = uri;
        if let Some(token) = bearer {
            request
                .headers_mut()
                .insert(AUTHORIZATION, bearer_value(token)?);
        }
        let response = self
            .inner
            .request(request)
            .await
            .map_err(|e| BenchError::Setup(format!("GET {url}: {e}")))?;
        let bytes = collect(response).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

async fn collect(response: hyper::Response<hyper::body::Incoming>) -> Result<Bytes, BenchError> {
    response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| BenchError::Setup(format!("reading a body: {e}")))
}

fn bearer_value(token: &str) -> Result<HeaderValue, BenchError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| BenchError::Setup("a token that is not a header value".to_owned()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// One request, built once and sent many times (the body is shared, never copied).
#[derive(Clone)]
pub struct Target {
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Target {
    /// A JSON POST to `url`, with a bearer token when given.
    pub fn new(url: &str, bearer: Option<&str>, body: &Value) -> Result<Target, BenchError> {
        let uri = url
            .parse()
            .map_err(|e| BenchError::Setup(format!("{url}: {e}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(token) = bearer {
            headers.insert(AUTHORIZATION, bearer_value(token)?);
        }
        let body = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        Ok(Target { uri, headers, body })
    }

    /// The same with one more header.
    pub fn header(mut self, name: &'static str, value: &'static str) -> Target {
        self.headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
        self
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// The protocols measured: the same on both sides, and one moxxy translates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OpenAI client, OpenAI upstream.
    OpenAi,
    /// OpenAI client (moxxy's `/v1/chat/completions`), Anthropic upstream: moxxy translates.
    /// Sent directly, the same conversation in Anthropic's own format to the fake.
    Anthropic,
}

impl Protocol {
    pub const ALL: [Protocol; 2] = [Protocol::OpenAi, Protocol::Anthropic];

    /// How the table names it.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::OpenAi => "openai",
            Protocol::Anthropic => "openai->anthropic",
        }
    }
}

/// The conversation every request carries: a short system prompt and a user turn, the size of a
/// typical chat request.
const SYSTEM: &str = "You are a concise assistant. Answer in one short paragraph.";
const USER: &str = "Explain in two sentences why a gateway should add as little latency as \
    possible to every request it forwards, and how one would measure it.";

/// The request to send straight to the fake upstream, in the upstream's own protocol.
pub fn direct(upstream: &str, protocol: Protocol, stream: bool) -> Result<Target, BenchError> {
    match protocol {
        Protocol::OpenAi => {
            let mut body = openai_body("gpt-4.1", stream);
            if stream {
                body["stream_options"] = json!({"include_usage": true});
            }
            Target::new(&format!("{upstream}/v1/chat/completions"), None, &body)
        }
        Protocol::Anthropic => {
            let body = json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 256,
                "system": SYSTEM,
                "messages": [{"role": "user", "content": USER}],
                "stream": stream,
            });
            Ok(
                Target::new(&format!("{upstream}/v1/messages"), None, &body)?
                    .header("anthropic-version", "2023-06-01"),
            )
        }
    }
}

/// The request to send to moxxy's `/v1/chat/completions`, routed to `protocol`'s upstream.
pub fn via_moxxy(
    moxxy: &str,
    token: &str,
    protocol: Protocol,
    stream: bool,
) -> Result<Target, BenchError> {
    let model = match protocol {
        Protocol::OpenAi => "openai/gpt-4.1",
        Protocol::Anthropic => "anthropic/claude-sonnet-4-5",
    };
    let mut body = openai_body(model, stream);
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    Target::new(&format!("{moxxy}/v1/chat/completions"), Some(token), &body)
}

fn openai_body(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 256,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": USER},
        ],
        "stream": stream,
    })
}
