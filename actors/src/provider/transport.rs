//! The HTTP side of a provider: the client it builds, bounded body reads, and how transport
//! failures are told to the user.

use bytes::Bytes;

use super::config::{ProviderConfig, ProviderKind};
use crate::error::{ErrorKind, ProviderError};

/// The pooled client of one provider: keep-alive, `TCP_NODELAY` (PITFALLS: sockets), a connect
/// timeout, and no redirects — a redirect would carry the key's header to whatever host the
/// upstream names.
pub fn build_client(config: &ProviderConfig) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .connect_timeout(config.timeouts.connect)
        .tcp_nodelay(true)
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("moxxy/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            ProviderError::new(
                ErrorKind::Unavailable,
                format!(
                    "provider '{}': the HTTP client could not be built ({e})",
                    config.id
                ),
            )
        })
}

/// The largest answer read from an upstream: a whole non-streamed body, or what a stream may
/// send without completing one event.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The error for an answer over [`MAX_RESPONSE_BYTES`]. Not retried: another attempt would most
/// likely read (and refuse) another 64 MiB.
pub fn too_large(provider: &str) -> ProviderError {
    let mut error = ProviderError::new(
        ErrorKind::Upstream,
        format!(
            "Provider '{provider}' sent an answer larger than {} MiB; it was refused",
            MAX_RESPONSE_BYTES / (1024 * 1024)
        ),
    );
    error.should_retry = Some(false);
    error
}

/// A body read up to a limit.
#[derive(Debug, Default)]
pub struct LimitedBody {
    pub bytes: Bytes,
    /// The body went on past the limit; `bytes` holds only its start.
    pub truncated: bool,
}

/// Reads a body up to `limit` bytes and stops there, so a huge answer costs bounded memory.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<LimitedBody, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            return Ok(LimitedBody {
                bytes: Bytes::from(body),
                truncated: true,
            });
        }
    }
    Ok(LimitedBody {
        bytes: Bytes::from(body),
        truncated: false,
    })
}

/// Tells a transport failure in the user's terms: which provider, what happened, where.
/// reqwest's messages hold the URL but never a header, so no key can appear here.
pub fn classify(config: &ProviderConfig, error: reqwest::Error) -> ProviderError {
    let id = &config.id;
    let cause = root_cause(&error);
    let err = if error.is_connect() && config.kind == ProviderKind::Ollama {
        // Ollama runs next to Moxxy: when nothing listens there, retrying only delays the answer
        // the caller will get anyway ("Ollama down" must answer promptly).
        let mut err = ProviderError::ollama_unreachable(config.base_url.trim_end_matches('/'));
        err.should_retry = Some(false);
        err
    } else if error.is_connect() {
        ProviderError::new(
            ErrorKind::Unreachable,
            format!(
                "Provider '{id}' could not be reached at {}: {cause}",
                config.base_url
            ),
        )
    } else if error.is_timeout() {
        ProviderError::new(
            ErrorKind::Timeout,
            format!("Provider '{id}' did not answer in time: {cause}"),
        )
    } else if error.is_body() || error.is_decode() {
        ProviderError::new(
            ErrorKind::Upstream,
            format!("Provider '{id}' broke off its answer: {cause}"),
        )
    } else {
        ProviderError::new(
            ErrorKind::Unreachable,
            format!("Provider '{id}' failed before answering: {cause}"),
        )
    };
    err.with_provider(id)
}

/// The innermost cause's message ("connection refused", "connection reset by peer").
fn root_cause(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}
