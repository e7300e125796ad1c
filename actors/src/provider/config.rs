//! What a provider actor is built from: its id, protocol, address, credentials, models and limits.

use std::sync::Arc;
use std::time::Duration;

use super::oauth::OAuthSession;
use crate::ratelimit::RateLimitConfig;
use crate::retry::{CircuitConfig, RetryPolicy};
use crate::secret::ApiKey;

/// The kind of upstream, which decides the wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// Anthropic's Messages API.
    Anthropic,
    /// OpenAI's Chat Completions API.
    OpenAi,
    /// Ollama's native `/api/chat`.
    Ollama,
    /// Any service that speaks OpenAI Chat Completions (xAI, Gemini, DeepSeek, …).
    OpenAiCompatible,
}

impl ProviderKind {
    /// The name used in the API (`anthropic`, `openai`, `ollama`, `openai_compatible`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::OpenAi => "openai",
            ProviderKind::Ollama => "ollama",
            ProviderKind::OpenAiCompatible => "openai_compatible",
        }
    }
}

/// How requests authenticate upstream.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// No credentials. Right for Ollama; for the others every request fails with the documented
    /// `No API key set …` error without reaching the upstream.
    None,
    /// An API key: `x-api-key` for Anthropic, `Authorization: Bearer` for the others.
    ApiKey(ApiKey),
    /// A live OAuth session: its access token is sent as `Authorization: Bearer` (with
    /// Anthropic's OAuth beta flag) and refreshed before it expires. Shared, so a clone of the
    /// configuration (an actor restart) keeps the refreshed tokens.
    OAuth(Arc<OAuthSession>),
}

impl Credentials {
    /// The secrets in use now (for redacting upstream messages).
    pub fn secrets(&self) -> Vec<ApiKey> {
        match self {
            Credentials::None => Vec::new(),
            Credentials::ApiKey(k) => vec![k.clone()],
            Credentials::OAuth(session) => session.secrets(),
        }
    }

    /// Why the OAuth session could not be refreshed, if it is one and that is so.
    pub fn auth_failure(&self) -> Option<String> {
        match self {
            Credentials::OAuth(session) => session.failure(),
            _ => None,
        }
    }
}

impl PartialEq for Credentials {
    /// Keys compare by value; sessions by identity (two sessions are the same only when shared).
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Credentials::None, Credentials::None) => true,
            (Credentials::ApiKey(a), Credentials::ApiKey(b)) => a == b,
            (Credentials::OAuth(a), Credentials::OAuth(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Time limits of upstream requests. Units are in the names (PITFALLS: config units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// To open the TCP (and TLS) connection.
    pub connect: Duration,
    /// From sending the request to the end of a non-streamed answer, or to the first event of a
    /// streamed one.
    pub request: Duration,
    /// Longest silence allowed between two reads of a stream before it is abandoned with an error.
    pub stream_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(600),
            stream_idle: Duration::from_secs(120),
        }
    }
}

/// Everything a provider actor is built from.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The provider's id (`anthropic`, `xai`, …).
    pub id: String,
    pub kind: ProviderKind,
    /// The upstream's base address: Anthropic's without `/v1` (as its SDK reads
    /// `ANTHROPIC_BASE_URL`), OpenAI-style ones with their version path (`…/v1`,
    /// `…/v1beta/openai`), Ollama's `http://host:port`.
    pub base_url: String,
    pub credentials: Credentials,
    /// The environment variable that would supply a key, named in the `No API key set` error.
    pub key_env_hint: Option<String>,
    /// The models this provider offers. Empty means any model is passed to the upstream, which
    /// then answers for itself.
    pub models: Vec<String>,
    /// Extra upstream headers (never auth headers).
    pub headers: Vec<(String, String)>,
    pub rate_limit: RateLimitConfig,
    pub retry: RetryPolicy,
    pub circuit: CircuitConfig,
    pub timeouts: Timeouts,
}

impl ProviderConfig {
    /// A configuration with the defaults for everything but what identifies the provider.
    pub fn new(id: impl Into<String>, kind: ProviderKind, base_url: impl Into<String>) -> Self {
        ProviderConfig {
            id: id.into(),
            kind,
            base_url: base_url.into(),
            credentials: Credentials::None,
            key_env_hint: None,
            models: Vec::new(),
            headers: Vec::new(),
            rate_limit: RateLimitConfig::default(),
            retry: RetryPolicy::default(),
            circuit: CircuitConfig::default(),
            timeouts: Timeouts::default(),
        }
    }

    /// The same configuration with credentials.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The same configuration with a model list.
    pub fn with_models<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.models = models.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the provider needs credentials to make a request.
    pub fn needs_credentials(&self) -> bool {
        self.kind != ProviderKind::Ollama
    }
}
