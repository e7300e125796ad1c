//! Asking an upstream which models it offers: Anthropic's paginated `/v1/models` (PROTOCOLS.md
//! §1.8), the OpenAI-style `/models` (§2.7, §4.3) and Ollama's `/api/tags` (§3).
//!
//! Like a completion, the [`ListModels`] message hands back a future that does the HTTP I/O where
//! the caller polls it, with the provider's own client, address and auth headers. A model list is
//! a single cheap GET, so it skips the retry loop, the rate limiter and the circuit: a caller that
//! cannot get the list has a fallback, and should have it promptly.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::actor::ProviderActor;
use super::config::Credentials;
use super::core::ProviderCore;
use super::oauth;
use super::protocol::Protocol;
use super::transport;
use crate::error::{ErrorKind, ProviderError};

/// The longest a whole model list (every page) may take; shorter if the provider's request
/// timeout is shorter. A list is small: waiting longer only delays the caller's fallback.
const MODEL_LIST_TIMEOUT: Duration = Duration::from_secs(15);

/// The largest model-list page read from an upstream.
const MAX_LIST_BYTES: usize = 8 * 1024 * 1024;

/// The largest error body read from an upstream.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// Anthropic's largest page size (`limit` runs 1–1000).
const ANTHROPIC_PAGE_LIMIT: &str = "1000";

/// How many Anthropic pages are followed at most: a guard against an upstream that always says
/// `has_more`.
const MAX_ANTHROPIC_PAGES: usize = 50;

/// The future a [`ListModels`] message hands back: the upstream's model ids, in its order.
pub type ModelsFuture = BoxFuture<'static, Result<Vec<String>, ProviderError>>;

/// Asks the upstream for the models it offers. Anthropic and OpenAI-style providers answer with
/// their `/models` list (every page; a Gemini-style `models/` prefix is stripped); Ollama with
/// the pulled models of `/api/tags`, by their full names (`llama3:latest`).
#[derive(Debug, Message)]
#[rtype(result = "ModelsFuture")]
pub struct ListModels;

impl Handler<ListModels> for ProviderActor {
    type Result = MessageResult<ListModels>;

    fn handle(&mut self, _: ListModels, _: &mut Self::Context) -> Self::Result {
        MessageResult(match self.core() {
            Ok(core) => Box::pin(core.list_models()) as ModelsFuture,
            Err(e) => Box::pin(async move { Err(e) }),
        })
    }
}

/// One page of Anthropic's list.
#[derive(Deserialize)]
struct AnthropicPage {
    data: Vec<Named>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

/// OpenAI's list (also Gemini's, xAI's, DeepSeek's …).
#[derive(Deserialize)]
struct OpenAiList {
    data: Vec<Named>,
}

#[derive(Deserialize)]
struct Named {
    id: String,
}

/// Ollama's `/api/tags`.
#[derive(Deserialize)]
struct OllamaTags {
    #[serde(default)]
    models: Vec<OllamaModel>,
}

#[derive(Deserialize)]
struct OllamaModel {
    name: String,
}

impl ProviderCore {
    /// The upstream's model ids, every page followed, duplicates dropped, in the upstream's order.
    /// Errors are the completion errors: no key, `Authentication failed - check your API key`
    /// for a 401, unreachable, timeout, or an answer that is not a model list.
    pub async fn list_models(self: Arc<Self>) -> Result<Vec<String>, ProviderError> {
        let id = &self.config.id;
        if self.config.needs_credentials() && self.config.credentials == Credentials::None {
            return Err(
                ProviderError::no_credentials(id, self.config.key_env_hint.as_deref())
                    .with_provider(id),
            );
        }
        let mut headers = self.protocol.headers(&self.config)?;
        headers.remove(CONTENT_TYPE); // A GET has no body.
                                      // An OAuth session lists with its bearer token, refreshed first if about to expire.
        let (headers, _) =
            oauth::authorize(&self.config.credentials, self.client(), id, &headers).await?;
        let limit = MODEL_LIST_TIMEOUT.min(self.config.timeouts.request);
        let fetch = async {
            match self.protocol {
                Protocol::Anthropic => self.anthropic_models(&headers).await,
                Protocol::OpenAi(_) => self.openai_models(&headers).await,
                Protocol::Ollama => self.ollama_models(&headers).await,
            }
        };
        let ids = tokio::time::timeout(limit, fetch).await.map_err(|_| {
            ProviderError::new(
                ErrorKind::Timeout,
                format!(
                    "Provider '{id}' did not list its models within {} s",
                    limit.as_secs()
                ),
            )
            .with_provider(id)
        })??;
        Ok(dedup(ids))
    }

    /// `GET {base}/v1/models?limit=1000`, then `&after_id=<last_id>` while `has_more`.
    async fn anthropic_models(&self, headers: &HeaderMap) -> Result<Vec<String>, ProviderError> {
        let url = format!("{}/v1/models", self.base());
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_ANTHROPIC_PAGES {
            let mut query = vec![("limit", ANTHROPIC_PAGE_LIMIT.to_string())];
            if let Some(after) = &after {
                query.push(("after_id", after.clone()));
            }
            let page: AnthropicPage = self.get_json(&url, &query, headers).await?;
            ids.extend(page.data.into_iter().map(|m| m.id));
            match page.last_id {
                // A page that does not move on would be asked for forever.
                Some(last) if page.has_more && after.as_ref() != Some(&last) => after = Some(last),
                _ => return Ok(ids),
            }
        }
        tracing::warn!(provider = %self.config.id, pages = MAX_ANTHROPIC_PAGES,
            "the model list still had more pages; listing what was read");
        Ok(ids)
    }

    /// `GET {base}/models`: one unpaginated list. Gemini's ids may carry a `models/` prefix, which
    /// no completion takes: it is stripped (for every OpenAI-style upstream, since a relay in
    /// front of Gemini has an address that says nothing about it).
    async fn openai_models(&self, headers: &HeaderMap) -> Result<Vec<String>, ProviderError> {
        let url = format!("{}/models", self.base());
        let list: OpenAiList = self.get_json(&url, &[], headers).await?;
        Ok(list
            .data
            .into_iter()
            .map(|m| match m.id.strip_prefix("models/") {
                Some(bare) => bare.to_string(),
                None => m.id,
            })
            .collect())
    }

    /// `GET {base}/api/tags`: the pulled models.
    async fn ollama_models(&self, headers: &HeaderMap) -> Result<Vec<String>, ProviderError> {
        let url = format!("{}/api/tags", self.base());
        let tags: OllamaTags = self.get_json(&url, &[], headers).await?;
        Ok(tags.models.into_iter().map(|m| m.name).collect())
    }

    /// One GET whose 2xx body is parsed as `T`; any other answer is decoded like a completion's
    /// error, so a 401 reads `Authentication failed - check your API key`.
    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        query: &[(&str, String)],
        headers: &HeaderMap,
    ) -> Result<T, ProviderError> {
        let response = self
            .client()
            .get(url)
            .query(query)
            .headers(headers.clone())
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let request_id = response
            .headers()
            .get(self.protocol.request_id_header())
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if !status.is_success() {
            let body = transport::read_body(response, MAX_ERROR_BYTES)
                .await
                .unwrap_or_default();
            let mut error = self.protocol.decode_error(status.as_u16(), &body.bytes, "");
            error.status = Some(status.as_u16());
            if error.request_id.is_none() {
                error.request_id = request_id;
            }
            return Err(self.upstream_error(error));
        }
        let body = transport::read_body(response, MAX_LIST_BYTES)
            .await
            .map_err(|e| self.transport_error(e))?;
        if body.truncated {
            return Err(self.upstream_error(ProviderError::new(
                ErrorKind::Upstream,
                format!(
                    "Provider '{}' answered {url} with a model list over {} MiB",
                    self.config.id,
                    MAX_LIST_BYTES / (1024 * 1024)
                ),
            )));
        }
        serde_json::from_slice(&body.bytes).map_err(|e| {
            self.upstream_error(ProviderError::new(
                ErrorKind::Upstream,
                format!(
                    "Provider '{}' answered {url} with something that is not a model list ({e})",
                    self.config.id
                ),
            ))
        })
    }

    fn base(&self) -> &str {
        self.config.base_url.trim_end_matches('/')
    }
}

/// Drops repeated ids (pages that overlap), keeping the first of each.
fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::dedup;

    #[test]
    fn dedup_keeps_the_first_of_each_in_order() {
        let ids = ["b", "a", "b", "c", "a"].map(String::from).to_vec();
        assert_eq!(dedup(ids), ["b", "a", "c"]);
    }
}
