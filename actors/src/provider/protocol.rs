//! Dispatch from a provider to its wire protocol: the address, the auth headers and the mappers.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use super::config::{Credentials, ProviderConfig, ProviderKind};
use super::openai::Dialect;
use super::{anthropic, ollama, openai, StreamDecode};
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{ChatRequest, ChatResponse};

/// Anthropic's beta flag for OAuth bearer tokens (PROTOCOLS.md §1.2).
const ANTHROPIC_OAUTH_BETA: &str = "oauth-2025-04-20";

/// The wire protocol of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Anthropic,
    OpenAi(Dialect),
    Ollama,
}

impl Protocol {
    pub fn for_config(config: &ProviderConfig) -> Self {
        match config.kind {
            ProviderKind::Anthropic => Protocol::Anthropic,
            ProviderKind::Ollama => Protocol::Ollama,
            ProviderKind::OpenAi => Protocol::OpenAi(Dialect::OpenAi),
            ProviderKind::OpenAiCompatible => Protocol::OpenAi(Dialect::detect(&config.base_url)),
        }
    }

    /// The completion endpoint, joined onto the base keeping its path.
    pub fn chat_url(&self, base_url: &str) -> String {
        let base = base_url.trim_end_matches('/');
        match self {
            Protocol::Anthropic => format!("{base}/v1/messages"),
            Protocol::OpenAi(_) => format!("{base}/chat/completions"),
            Protocol::Ollama => format!("{base}/api/chat"),
        }
    }

    /// The headers every request carries: content type, protocol version, auth, extra headers.
    /// An OAuth session's bearer token is not among them: it changes when the session is
    /// refreshed, so it is added per attempt (`oauth::authorize`).
    pub fn headers(&self, config: &ProviderConfig) -> Result<HeaderMap, ProviderError> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &config.headers {
            let bad = || {
                ProviderError::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "provider '{}': header '{name}' is not a valid HTTP header",
                        config.id
                    ),
                )
            };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let value = HeaderValue::from_str(value).map_err(|_| bad())?;
            headers.insert(name, value);
        }
        if *self == Protocol::Anthropic {
            headers.insert(
                HeaderName::from_static("anthropic-version"),
                HeaderValue::from_static(anthropic::API_VERSION),
            );
        }
        let secret_header = |value: String| {
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                ProviderError::new(
                    ErrorKind::NoCredentials,
                    format!(
                        "The key of provider '{}' holds characters an HTTP header cannot carry - set it again",
                        config.id
                    ),
                )
            })?;
            value.set_sensitive(true);
            Ok::<_, ProviderError>(value)
        };
        match (&config.credentials, self) {
            (Credentials::None, _) => {}
            (Credentials::ApiKey(key), Protocol::Anthropic) => {
                headers.insert(
                    HeaderName::from_static("x-api-key"),
                    secret_header(key.expose().to_string())?,
                );
            }
            (Credentials::ApiKey(key), _) => {
                headers.insert(
                    AUTHORIZATION,
                    secret_header(format!("Bearer {}", key.expose()))?,
                );
            }
            (Credentials::OAuth(_), _) => {}
        }
        if let (Credentials::OAuth(_), Protocol::Anthropic) = (&config.credentials, self) {
            add_beta_flag(&mut headers, ANTHROPIC_OAUTH_BETA);
        }
        Ok(headers)
    }

    /// The upstream body for `req`.
    pub fn encode_request(&self, req: &ChatRequest) -> Result<Value, ProviderError> {
        match self {
            Protocol::Anthropic => anthropic::encode_request(req),
            Protocol::OpenAi(dialect) => openai::encode_request(req, *dialect),
            Protocol::Ollama => ollama::encode_request(req),
        }
    }

    pub fn decode_response(&self, body: &[u8]) -> Result<ChatResponse, ProviderError> {
        match self {
            Protocol::Anthropic => anthropic::decode_response(body),
            Protocol::OpenAi(dialect) => openai::decode_response(body, *dialect),
            Protocol::Ollama => ollama::decode_response(body),
        }
    }

    pub fn decode_error(&self, status: u16, body: &[u8], model: &str) -> ProviderError {
        match self {
            Protocol::Anthropic => anthropic::decode_error(status, body, model),
            Protocol::OpenAi(_) => openai::decode_error(status, body, model),
            Protocol::Ollama => ollama::decode_error(status, body, model),
        }
    }

    pub fn stream_decoder(&self) -> Box<dyn StreamDecode> {
        match self {
            Protocol::Anthropic => Box::new(anthropic::StreamDecoder::new()),
            Protocol::OpenAi(dialect) => Box::new(openai::StreamDecoder::new(*dialect)),
            Protocol::Ollama => Box::new(ollama::StreamDecoder::new()),
        }
    }

    /// The header that carries the upstream's request id.
    pub fn request_id_header(&self) -> &'static str {
        match self {
            Protocol::Anthropic => "request-id",
            _ => "x-request-id",
        }
    }
}

/// Adds a flag to `anthropic-beta`, keeping the flags already there (compared whole).
fn add_beta_flag(headers: &mut HeaderMap, flag: &str) {
    let name = HeaderName::from_static("anthropic-beta");
    let existing = headers
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut flags: Vec<&str> = existing
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if !flags.contains(&flag) {
        flags.push(flag);
    }
    if let Ok(value) = HeaderValue::from_str(&flags.join(",")) {
        headers.insert(name, value);
    }
}
