//! Ollama's health and model list: `GET /api/version` and `GET /api/tags`, sent by the provider's
//! own client to its own base URL, so the provider actor stays the only thing that talks to the
//! upstream (DESIGN.md). The server's discovery loop asks for it on a timer.

use std::sync::Arc;
use std::time::Duration;

use super::core::ProviderCore;
use super::ollama::decode_tags;
use super::transport;
use crate::error::{ErrorKind, ProviderError};

/// The largest `/api/version` or `/api/tags` body read (a tags list of thousands of models fits).
const MAX_PROBE_BYTES: usize = 4 * 1024 * 1024;

/// What one probe learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OllamaProbe {
    /// Ollama's version (`/api/version`), empty when it did not say.
    pub version: String,
    /// The pulled models, in Ollama's order; `None` when `/api/tags` could not be read (the
    /// server answered, but not with a list), so the caller keeps the list it had.
    pub models: Option<Vec<String>>,
}

impl ProviderCore {
    /// Asks Ollama for its version and pulled models, each request bounded by `timeout`.
    ///
    /// Any HTTP answer to `/api/version` marks the provider reachable; a connection failure or
    /// timeout marks it unreachable and returns `Ollama connection failed: could not reach ADDR`.
    pub async fn probe_ollama(
        self: Arc<Self>,
        timeout: Duration,
    ) -> Result<OllamaProbe, ProviderError> {
        let base = self.config().base_url.trim_end_matches('/').to_string();
        let version = match self.get(&format!("{base}/api/version"), timeout).await {
            Ok((status, body)) => {
                self.set_reachable(true);
                if status.is_success() {
                    version_of(&body)
                } else {
                    String::new()
                }
            }
            Err(e) => {
                if e.kind == ErrorKind::Unreachable {
                    self.set_reachable(false);
                }
                return Err(e);
            }
        };
        let models = match self.get(&format!("{base}/api/tags"), timeout).await {
            Ok((status, body)) if status.is_success() => decode_tags(&body)
                .map_err(|e| {
                    tracing::warn!(provider = %self.config().id, error = %e,
                        "Ollama's model list could not be read; keeping the previous one");
                })
                .ok(),
            Ok((status, _)) => {
                tracing::debug!(provider = %self.config().id, %status,
                    "Ollama's /api/tags did not answer with a list");
                None
            }
            Err(_) => None,
        };
        Ok(OllamaProbe { version, models })
    }

    /// One bounded GET: the status and the body (at most [`MAX_PROBE_BYTES`]).
    async fn get(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<(reqwest::StatusCode, bytes::Bytes), ProviderError> {
        let exchange = async {
            let response = self.http().get(url).timeout(timeout).send().await?;
            let status = response.status();
            let body = transport::read_body(response, MAX_PROBE_BYTES).await?;
            Ok::<_, reqwest::Error>((status, body.bytes))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) if e.is_timeout() => Err(self.unreachable()),
            Ok(Err(e)) => {
                let error = self.transport_error(e);
                Err(if error.kind == ErrorKind::Unreachable {
                    self.unreachable()
                } else {
                    error
                })
            }
            Err(_) => Err(self.unreachable()),
        }
    }

    fn unreachable(&self) -> ProviderError {
        ProviderError::ollama_unreachable(self.config().base_url.trim_end_matches('/'))
            .with_provider(&self.config().id)
    }
}

/// The `version` field of an `/api/version` body, or empty.
fn version_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("version")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default()
}
