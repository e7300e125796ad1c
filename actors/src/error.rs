//! The engine's error type. Every failure a caller can see is a [`ProviderError`]: a kind the
//! server maps to a status and an error type, and a message that is safe to show to the client
//! (it never holds a key: upstream messages pass through [`crate::secret::redact`] first).

use std::time::Duration;

/// What went wrong, in the terms the API reports (see API.md, *Errors*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The client's request is invalid for this upstream (400).
    InvalidRequest,
    /// The upstream rejected the key (401/403 from the upstream, or xAI's 400 about the key).
    Authentication,
    /// The key is valid but not allowed this (403).
    Permission,
    /// Out of credit or quota; retrying does not help (402, 429 `insufficient_quota`).
    Billing,
    /// The model is not offered (404).
    ModelNotFound,
    /// Something else the upstream did not find (404).
    NotFound,
    /// The request is too large for the upstream (413).
    RequestTooLarge,
    /// 429 after retries were spent. `retry_after` is passed on to the client.
    RateLimited,
    /// The upstream is overloaded (529, 503).
    Overloaded,
    /// The upstream failed (5xx) or answered something that is not its protocol.
    Upstream,
    /// The upstream could not be reached (connection refused, DNS, TLS).
    Unreachable,
    /// The upstream did not answer in time.
    Timeout,
    /// The provider has no credentials configured.
    NoCredentials,
    /// Too many recent failures: requests are refused until the circuit's probe succeeds.
    CircuitOpen,
    /// The provider actor is gone (removed or replaced while the request was made).
    Unavailable,
    /// The request was cancelled (the caller went away).
    Cancelled,
}

impl ErrorKind {
    /// Whether the retry policy may try again after this failure (before any byte went to the
    /// caller).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Overloaded
                | ErrorKind::Upstream
                | ErrorKind::Unreachable
                | ErrorKind::Timeout
        )
    }
}

/// A failure of a completion, safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// A message that says what happened and, where it can, what to fix. Never holds a secret.
    pub message: String,
    /// The upstream's HTTP status, when one answered.
    pub status: Option<u16>,
    /// The upstream's own error type or code (`rate_limit_error`, `insufficient_quota`, …).
    pub upstream_type: Option<String>,
    /// The parameter the upstream named, when it named one (OpenAI's `param`).
    pub param: Option<String>,
    /// When the upstream said to come back (429, 503, 529).
    pub retry_after: Option<Duration>,
    /// The provider id, when the error came from one.
    pub provider: Option<String>,
    /// The upstream's request id, when it gave one.
    pub request_id: Option<String>,
    /// Whether the upstream asked (`x-should-retry`) or forbade a retry, overriding the kind.
    pub should_retry: Option<bool>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            message: message.into(),
            status: None,
            upstream_type: None,
            param: None,
            retry_after: None,
            provider: None,
            request_id: None,
            should_retry: None,
        }
    }

    /// `Authentication failed - check your API key`, word for word as documented.
    pub fn authentication() -> Self {
        Self::new(
            ErrorKind::Authentication,
            "Authentication failed - check your API key",
        )
    }

    /// `Rate limit exceeded`, word for word as documented.
    pub fn rate_limited(retry_after: Option<Duration>) -> Self {
        ProviderError {
            retry_after,
            ..Self::new(ErrorKind::RateLimited, "Rate limit exceeded")
        }
    }

    /// `Model 'NAME' not found`, word for word as documented.
    pub fn model_not_found(name: &str) -> Self {
        Self::new(
            ErrorKind::ModelNotFound,
            format!("Model '{name}' not found"),
        )
    }

    /// `Ollama connection failed: could not reach ADDRESS`, word for word as documented.
    pub fn ollama_unreachable(address: &str) -> Self {
        Self::new(
            ErrorKind::Unreachable,
            format!("Ollama connection failed: could not reach {address}"),
        )
    }

    /// `No API key set for provider 'ID' - set VAR or register one`, word for word as documented.
    pub fn no_credentials(provider: &str, env_var: Option<&str>) -> Self {
        let message = match env_var {
            Some(var) => {
                format!("No API key set for provider '{provider}' - set {var} or register one")
            }
            None => format!("No API key set for provider '{provider}' - register one"),
        };
        Self::new(ErrorKind::NoCredentials, message)
    }

    /// Whether the retry policy may try again.
    pub fn is_retryable(&self) -> bool {
        self.should_retry
            .unwrap_or_else(|| self.kind.is_retryable())
    }

    /// The same error, attributed to `provider`.
    pub fn with_provider(mut self, provider: &str) -> Self {
        if self.provider.is_none() {
            self.provider = Some(provider.to_string());
        }
        self
    }
}

/// A duration as a person reads it in an error message: `300 ms` below a second, `2 s` for
/// whole seconds, `1.5 s` otherwise. Timeouts are configured in milliseconds, so printing whole
/// seconds would say "0 s" for a 300 ms idle limit.
pub fn describe_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}
