//! Anthropic OAuth sessions: a bearer access token that expires, and the refresh token that
//! renews it (PROTOCOLS.md §1.2).
//!
//! One [`OAuthSession`] is shared (in an `Arc`) by every request of the provider and survives an
//! actor restart, because the configuration holds the session, not a copy of its tokens:
//!
//! - before each attempt, a token that expires within [`REFRESH_MARGIN`] is refreshed;
//! - after an upstream 401 the session is refreshed once and the request sent once more;
//! - concurrent requests wait on one refresh: the refresh holds an async lock, and whoever waited
//!   on it finds a newer generation (or a token no longer near expiry) and uses that;
//! - a rotated pair is handed to the [`CredentialSink`] *before* it is used, so a crash never
//!   loses a refresh token the upstream has already replaced;
//! - a failed refresh is remembered (the actor reports `auth_failed` with the reason) and the
//!   request fails with an authentication error that says how to recover.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};

use super::config::Credentials;
use super::transport;
use crate::error::{ErrorKind, ProviderError};
use crate::secret::{redact, ApiKey};

/// A token that expires within this margin is refreshed before it is used.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// The lifetime assumed when the token endpoint does not say (`expires_in`), as the SDK assumes.
pub const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(3600);
/// The longest lifetime taken from a token endpoint: a year (Anthropic's are hours).
pub const MAX_EXPIRES_IN: Duration = Duration::from_secs(365 * 86_400);
/// How long a refresh may take before it counts as failed.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(30);
/// Anthropic's beta flag for OAuth, also sent to the token endpoint.
const OAUTH_BETA: &str = "oauth-2025-04-20";
/// The most of a token endpoint's answer that is read.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// An access token, the refresh token that renews it, and when the access token expires.
#[derive(Clone, Debug, PartialEq)]
pub struct OAuthTokens {
    pub access_token: ApiKey,
    pub refresh_token: ApiKey,
    pub expires_at: SystemTime,
}

/// Where a refreshed pair is kept. The engine has no storage of its own (DESIGN.md): the server
/// implements this over its encrypted vault.
pub trait CredentialSink: Send + Sync {
    /// Stores `tokens` durably for `provider`, before they are used. An error says why, never
    /// containing a token.
    fn persist(&self, provider: &str, tokens: &OAuthTokens) -> Result<(), String>;
}

/// The token endpoint and the public client the refresh grant names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClient {
    /// The full URL of the token endpoint (`https://console.anthropic.com/v1/oauth/token`).
    pub token_url: String,
    pub client_id: String,
}

/// What the session knows now: the pair, how many refreshes made it, and the last failure.
struct Current {
    tokens: OAuthTokens,
    generation: u64,
    failure: Option<String>,
}

/// A live OAuth session, shared by every request of one provider.
pub struct OAuthSession {
    client: OAuthClient,
    sink: Option<Arc<dyn CredentialSink>>,
    /// Read without waiting by every request; written only under `refreshing`.
    current: RwLock<Current>,
    /// Held for the whole of a refresh: the single flight.
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSession")
            .field("token_url", &self.client.token_url)
            .field("tokens", &"*****")
            .finish_non_exhaustive()
    }
}

impl OAuthSession {
    /// A session starting from `tokens`; refreshed pairs go to `sink`.
    pub fn new(
        tokens: OAuthTokens,
        client: OAuthClient,
        sink: Option<Arc<dyn CredentialSink>>,
    ) -> Arc<Self> {
        Arc::new(OAuthSession {
            client,
            sink,
            current: RwLock::new(Current {
                tokens,
                generation: 0,
                failure: None,
            }),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// The pair in use now.
    pub fn tokens(&self) -> OAuthTokens {
        self.read(|c| c.tokens.clone())
    }

    /// Why the last refresh failed, while no later one has succeeded. Never holds a token.
    pub fn failure(&self) -> Option<String> {
        self.read(|c| c.failure.clone())
    }

    /// The tokens, for masking any echo of them in an upstream message.
    pub fn secrets(&self) -> Vec<ApiKey> {
        self.read(|c| {
            vec![
                c.tokens.access_token.clone(),
                c.tokens.refresh_token.clone(),
            ]
        })
    }

    fn read<T>(&self, f: impl FnOnce(&Current) -> T) -> T {
        f(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The access token to send now and its generation, refreshing first when it is about to
    /// expire.
    async fn access(
        &self,
        http: &reqwest::Client,
        provider: &str,
    ) -> Result<(ApiKey, u64), ProviderError> {
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        let _flight = self.refreshing.lock().await;
        // Whoever held the lock before may have refreshed already.
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        self.refresh(http, provider).await
    }

    /// After the upstream rejected the token of `generation`: refresh, unless another request
    /// already did since.
    async fn after_reject(
        &self,
        http: &reqwest::Client,
        provider: &str,
        generation: u64,
    ) -> Result<(), ProviderError> {
        let _flight = self.refreshing.lock().await;
        if self.read(|c| c.generation) != generation {
            return Ok(());
        }
        self.refresh(http, provider).await.map(|_| ())
    }

    fn fresh(&self) -> Option<(ApiKey, u64)> {
        self.read(|c| {
            let deadline = SystemTime::now() + REFRESH_MARGIN;
            (c.tokens.expires_at > deadline).then(|| (c.tokens.access_token.clone(), c.generation))
        })
    }

    /// One refresh grant. Call only while holding `refreshing`.
    async fn refresh(
        &self,
        http: &reqwest::Client,
        provider: &str,
    ) -> Result<(ApiKey, u64), ProviderError> {
        let old = self.tokens();
        let secrets = [old.access_token.clone(), old.refresh_token.clone()];
        let outcome = self.grant(http, &old.refresh_token).await;
        let tokens = match outcome {
            Ok(tokens) => tokens,
            Err(reason) => {
                let reason = secrets
                    .iter()
                    .fold(reason, |text, key| redact(&text, Some(key)));
                tracing::warn!(provider, reason = %reason, "OAuth refresh failed");
                self.write(|c| c.failure = Some(reason.clone()));
                return Err(refresh_failed(provider, &reason));
            }
        };
        // Kept before used: a rotated refresh token must survive a crash right after this.
        if let Some(sink) = &self.sink {
            if let Err(e) = sink.persist(provider, &tokens) {
                tracing::error!(provider, error = %e,
                    "the refreshed OAuth session could not be stored; it is used, but a restart will need `moxxy auth import`");
            }
        }
        tracing::info!(provider, "OAuth access token refreshed");
        let access = tokens.access_token.clone();
        let generation = self.write(|c| {
            c.tokens = tokens;
            c.generation += 1;
            c.failure = None;
            c.generation
        });
        Ok((access, generation))
    }

    fn write<T>(&self, f: impl FnOnce(&mut Current) -> T) -> T {
        f(&mut self.current.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// POSTs the refresh grant; the new pair, or the reason it failed (may still echo a token:
    /// the caller redacts).
    async fn grant(&self, http: &reqwest::Client, refresh: &ApiKey) -> Result<OAuthTokens, String> {
        let body = json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh.expose(),
            "client_id": self.client.client_id,
        });
        let request = http
            .post(&self.client.token_url)
            .header("anthropic-beta", OAUTH_BETA)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .timeout(REFRESH_TIMEOUT)
            .send();
        let response = request.await.map_err(|e| {
            format!(
                "the token endpoint {} could not be reached ({})",
                self.client.token_url,
                root_cause(&e)
            )
        })?;
        let status = response.status();
        let bytes = transport::read_body(response, MAX_TOKEN_RESPONSE_BYTES)
            .await
            .map_err(|e| {
                format!(
                    "the token endpoint broke off its answer ({})",
                    root_cause(&e)
                )
            })?;
        let value: Value = serde_json::from_slice(&bytes.bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(error_reason(status.as_u16(), &value));
        }
        let access = value["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or("the token endpoint's answer has no access_token")?;
        // Bounded: the endpoint's number is not trusted with a `SystemTime` addition, which
        // panics on overflow (`"expires_in": 18446744073709551615`).
        let expires_in = value["expires_in"]
            .as_u64()
            .map(|secs| Duration::from_secs(secs.min(MAX_EXPIRES_IN.as_secs())))
            .unwrap_or(DEFAULT_EXPIRES_IN);
        let refresh_token = match value["refresh_token"].as_str().filter(|t| !t.is_empty()) {
            Some(rotated) => ApiKey::new(rotated),
            None => refresh.clone(),
        };
        Ok(OAuthTokens {
            access_token: ApiKey::new(access),
            refresh_token,
            expires_at: SystemTime::now() + expires_in,
        })
    }
}

/// The reason a token endpoint gave (OAuth's `error_description` / `error`, or Anthropic's
/// `error.message`), else its status.
fn error_reason(status: u16, body: &Value) -> String {
    let said = body["error_description"]
        .as_str()
        .or_else(|| body["error"]["message"].as_str())
        .or_else(|| body["error"].as_str())
        .or_else(|| body["message"].as_str());
    match said {
        Some(text) => format!("{text} (HTTP {status})"),
        None => format!("the token endpoint answered HTTP {status}"),
    }
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}

/// The error of a request whose session could not be refreshed.
fn refresh_failed(provider: &str, reason: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Authentication,
        format!(
            "Anthropic OAuth refresh failed: {reason} - import new credentials with moxxy auth import FILE"
        ),
    )
    .with_provider(provider)
}

/// For an OAuth provider: `headers` with the bearer token of the live session (refreshed first
/// if it is about to expire) and the token's generation; otherwise `headers` as they are.
pub(crate) async fn authorize(
    credentials: &Credentials,
    http: &reqwest::Client,
    provider: &str,
    headers: &HeaderMap,
) -> Result<(HeaderMap, Option<u64>), ProviderError> {
    let Credentials::OAuth(session) = credentials else {
        return Ok((headers.clone(), None));
    };
    let (token, generation) = session.access(http, provider).await?;
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        ProviderError::new(
            ErrorKind::NoCredentials,
            format!(
                "The OAuth access token of provider '{provider}' holds characters an HTTP header cannot carry - import it again with moxxy auth import FILE"
            ),
        )
        .with_provider(provider)
    })?;
    value.set_sensitive(true);
    let mut headers = headers.clone();
    headers.insert(AUTHORIZATION, value);
    Ok((headers, Some(generation)))
}

/// After an upstream 401 to an attempt made with the token of `generation`: refreshes the
/// session (once for all the requests that saw the same token).
pub(crate) async fn reauthorize(
    credentials: &Credentials,
    http: &reqwest::Client,
    provider: &str,
    generation: u64,
) -> Result<(), ProviderError> {
    match credentials {
        Credentials::OAuth(session) => session.after_reject(http, provider, generation).await,
        _ => Ok(()),
    }
}
