//! Providers: the actor that owns one upstream, and the wire protocols it speaks.
//!
//! Each protocol module (`anthropic`, `openai`, `ollama`) maps both ways between its wire format and
//! the unified types of [`crate::messages`]:
//!
//! - towards the upstream: `encode_request`, `decode_response`, `decode_error` and a
//!   `StreamDecoder` (raw body bytes in, [`StreamEvent`]s out);
//! - towards a client of Moxxy's compatible endpoints: `decode_request`, `encode_response`,
//!   `encode_error` and a `StreamEncoder` ([`StreamEvent`]s in, body bytes out).

pub mod actor;
pub mod anthropic;
pub mod config;
mod core;
pub mod models;
pub mod ndjson;
pub mod oauth;
pub mod ollama;
pub mod openai;
mod probe;
pub mod protocol;
mod shortcut;
pub mod sse;
mod stream;
mod transport;

use actix::Addr;

pub use self::actor::{
    Complete, CompleteStream, ProbeOllama, ProviderActor, ProviderState, ProviderStatus,
};
pub use self::config::{Credentials, ProviderConfig, ProviderKind, Timeouts};
pub use self::core::{ProviderCore, UpstreamMeta};
pub use self::models::{ListModels, ModelsFuture};
pub use self::oauth::{CredentialSink, OAuthClient, OAuthSession, OAuthTokens};
pub use self::probe::OllamaProbe;
pub use self::stream::EventStream;
use crate::error::{ErrorKind, ProviderError};
use crate::messages::{ChatRequest, ChatResponse, StreamEvent};

/// A completion from a provider, awaited here, where the caller runs. The provider's core comes
/// from this thread's shortcut to it (see `shortcut`): no mailbox round trip per request.
pub async fn complete(
    provider: &Addr<ProviderActor>,
    request: ChatRequest,
) -> Result<(ChatResponse, UpstreamMeta), ProviderError> {
    shortcut::core(provider).await?.complete(request).await
}

/// A streamed completion from a provider; resolves once the stream has started.
pub async fn stream(
    provider: &Addr<ProviderActor>,
    request: ChatRequest,
) -> Result<(EventStream, UpstreamMeta), ProviderError> {
    shortcut::core(provider).await?.stream(request).await
}

/// Asks a provider's upstream which models it offers (see [`ListModels`]); the I/O runs here,
/// where the caller awaits.
pub async fn list_models(provider: &Addr<ProviderActor>) -> Result<Vec<String>, ProviderError> {
    provider
        .send(ListModels)
        .await
        .map_err(|_| actor_gone())?
        .await
}

fn actor_gone() -> ProviderError {
    ProviderError::new(
        ErrorKind::Unavailable,
        "The provider stopped before it could take the request - try again",
    )
}

/// Turns an upstream's streamed body into unified events. Implemented once per protocol.
pub trait StreamDecode: Send {
    /// Feeds the next bytes of the body, exactly as they arrived (a read may end anywhere, even
    /// inside a UTF-8 character), and appends the events they complete.
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<StreamEvent>);

    /// The body ended. Appends what the buffered tail completes and, if the protocol's terminator
    /// was never seen, a [`StreamEvent::Error`] saying the stream was cut short.
    fn finish(&mut self, out: &mut Vec<StreamEvent>);
}

/// Turns unified events into a client's streamed body. Implemented once per protocol.
pub trait StreamEncode: Send {
    /// Appends the wire bytes for `event` (possibly none: some events are held until the next).
    fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>);

    /// The stream ended: appends what was held back and the protocol's terminator.
    fn finish(&mut self, out: &mut Vec<u8>);
}
