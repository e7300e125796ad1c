//! [`Api`]: requests to the server under test, bound to one token; [`Resp`]: a response read
//! whole. Every response is also kept in the server's [`Transcript`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

/// How long one request may take: every upstream is a fake on loopback, so a slow answer is a
/// hang, and the test should say so rather than wait forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A response, read to the end.
#[derive(Clone, Debug)]
pub struct Resp {
    /// `POST /v1/tokens`, for messages.
    pub request: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    /// The body as JSON; panics (showing the response) when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("{}: body is not JSON ({e}):\n{self}", self.request))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    /// The `Content-Type` without parameters, lowercased.
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }

    /// Panics, showing the response, unless the status is `status`.
    pub fn expect(&self, status: u16) -> &Resp {
        assert_eq!(self.status, status, "unexpected status:\n{self}");
        self
    }
}

impl fmt::Display for Resp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} -> {}", self.request, self.status)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
        }
        write!(f, "\n{}", self.text)
    }
}

/// One response as the secrets test scans it: the request line, the status, every header
/// and the body.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `name: value` lines.
    pub headers: String,
    pub body: String,
}

/// The responses seen through one server's [`Api`]s, shared by clones.
#[derive(Clone, Default)]
pub struct Transcript(Arc<Mutex<Vec<Seen>>>);

impl Transcript {
    fn push(&self, seen: Seen) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(seen);
    }

    pub fn all(&self) -> Vec<Seen> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A client of one server run, sending one token (or none).
#[derive(Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
    transcript: Transcript,
}

impl Api {
    pub(super) fn new(base: &str, token: Option<&str>, transcript: Transcript) -> Api {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("build a reqwest client");
        Api {
            base: base.to_owned(),
            token: token.map(str::to_owned),
            client,
            transcript,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a token with `scopes` (and `expires_in` seconds, if given) through
    /// `POST /v1/tokens`; returns its `(id, token)`.
    pub async fn create_token(
        &self,
        name: &str,
        scopes: &[&str],
        expires_in: Option<u64>,
    ) -> (String, String) {
        let mut body = serde_json::json!({"name": name, "scopes": scopes});
        if let Some(seconds) = expires_in {
            body["expires_in"] = seconds.into();
        }
        let resp = self.post("/v1/tokens", body).await;
        let created = resp.expect(201).json();
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        let token = created["token"].as_str().unwrap_or_default().to_owned();
        assert!(!id.is_empty(), "a created token has an id:\n{resp}");
        assert!(
            super::is_mox_token(&token),
            "a created token is mox_ + 64 hex:\n{resp}"
        );
        (id, token)
    }

    /// Any method with an optional JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut request = self.request(method.clone(), path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.finish(method, path, request).await
    }

    /// A body sent as is, with its content type (malformed JSON, wrong content types).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let request = self
            .request(method.clone(), path)
            .header("content-type", content_type)
            .body(body);
        self.finish(method, path, request).await
    }

    /// A request builder with this client's auth, for what the helpers do not cover.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
    }

    async fn finish(&self, method: Method, path: &str, request: reqwest::RequestBuilder) -> Resp {
        let line = format!("{method} {path}");
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{line}: request failed: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{line}: reading the body failed: {e}"));
        let header_lines = headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
            .collect::<Vec<_>>()
            .join("\n");
        self.transcript.push(Seen {
            method: method.to_string(),
            path: path.to_owned(),
            status,
            headers: header_lines,
            body: text.clone(),
        });
        Resp {
            request: line,
            status,
            headers,
            text,
        }
    }
}
