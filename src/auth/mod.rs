//! `mox_` tokens on requests: the extractor that authenticates a caller, and the bootstrap rule.
//!
//! A handler takes a [`Caller`] and calls [`Caller::require`] with the scope its route needs:
//! `admin` for every change, `read` for the management API's GETs, `chat` for completions, model
//! lists and agent runs. A missing, malformed, unknown, revoked or expired token is the same 401
//! `Missing or invalid API token` (the log says which); a token without the scope gets 403.

pub mod cache;
pub mod token;

use std::future::{ready, Ready};
use std::net::SocketAddr;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

pub use self::cache::TokenCache;
use self::token::{Scope, TokenRejection};
use crate::api::{ApiError, AppState};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: String,
    pub scopes: Vec<Scope>,
}

impl Caller {
    /// Checks the caller's token grants `scope`; 403 naming the scope otherwise.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if token::allows(&self.scopes, scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "This token lacks the '{}' scope this request needs",
                scope.as_str()
            )))
        }
    }
}

/// The token a request presents: `Authorization: Bearer mox_…`, or `x-api-key: mox_…` (so the
/// Anthropic SDKs work unchanged).
pub fn presented_token(req: &HttpRequest) -> Option<&str> {
    let headers = req.headers();
    if let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let value = value.trim();
        let scheme_len = "bearer ".len();
        if value.len() > scheme_len && value[..scheme_len].eq_ignore_ascii_case("bearer ") {
            return Some(value[scheme_len..].trim());
        }
        return None;
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Authenticates the token `req` presents: from the [`TokenCache`] when the app has one and
/// checked the token this second, else against the store.
pub fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Caller, ApiError> {
    let Some(presented) = presented_token(req) else {
        return Err(ApiError::unauthorized());
    };
    if !token::looks_like_token(presented) {
        tracing::debug!("rejected a credential that is not a mox_ token");
        return Err(ApiError::unauthorized());
    }
    let presented_hash = token::hash(presented);
    let now = std::time::SystemTime::now();
    let cache = req.app_data::<web::Data<TokenCache>>();
    if let Some(caller) = cache.and_then(|cache| cache.get(&presented_hash, now)) {
        return Ok(caller);
    }
    let generation = cache.map(|cache| cache.generation());
    let (caller, expires) = from_store(state, &presented_hash, now)?;
    if let (Some(cache), Some(generation)) = (cache, generation) {
        cache.put(&presented_hash, &caller, expires, now, generation);
    }
    Ok(caller)
}

/// The caller of the token hashed `presented_hash`, checked against its stored record, and the
/// token's expiry; notes the use (`last_used_at`, once a second).
fn from_store(
    state: &AppState,
    presented_hash: &str,
    now: std::time::SystemTime,
) -> Result<(Caller, Option<std::time::SystemTime>), ApiError> {
    let tokens = state.store.tokens();
    let record = tokens
        .find_by_hash(presented_hash)
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| {
            tracing::debug!("rejected an unknown mox_ token");
            ApiError::unauthorized()
        })?;
    if let Err(rejection) = token::verify_hash(presented_hash, &record, now) {
        let why = match rejection {
            TokenRejection::Revoked => "revoked",
            TokenRejection::Expired => "expired",
            TokenRejection::Mismatch => "mismatched",
        };
        tracing::debug!(token_id = %record.id, why, "rejected a mox_ token");
        return Err(ApiError::unauthorized());
    }
    // `last_used_at` has whole seconds: within the second it already says, touching would
    // read and decode the record again for nothing (a tenth of a completion's instructions).
    if record.last_used_at.as_deref() != Some(crate::time::rfc3339(now).as_str()) {
        if let Err(e) = tokens.touch(&record.id, now) {
            tracing::warn!(token_id = %record.id, error = %e, "could not record last_used_at");
        }
    }
    // Verified, so an expiry it has is readable.
    let expires = record
        .expires_at
        .as_deref()
        .and_then(crate::time::parse_rfc3339);
    let caller = Caller {
        token_id: record.id,
        scopes: record.scopes,
    };
    Ok((caller, expires))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::internal(&"the app state is missing")));
        };
        ready(authenticate(state, req))
    }
}

/// The bootstrap rule: the first token may be created without auth only while no token exists,
/// and only from a loopback peer.
pub fn bootstrap_allowed(tokens_exist: bool, peer: Option<SocketAddr>) -> bool {
    !tokens_exist && peer.is_some_and(|p| p.ip().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_needs_an_empty_store_and_a_loopback_peer() {
        let loopback: SocketAddr = "127.0.0.1:5000".parse().unwrap_or_else(|_| unreachable!());
        let loopback6: SocketAddr = "[::1]:5000".parse().unwrap_or_else(|_| unreachable!());
        let remote: SocketAddr = "192.0.2.7:5000".parse().unwrap_or_else(|_| unreachable!());
        assert!(bootstrap_allowed(false, Some(loopback)));
        assert!(bootstrap_allowed(false, Some(loopback6)));
        assert!(!bootstrap_allowed(false, Some(remote)));
        assert!(!bootstrap_allowed(false, None));
        assert!(!bootstrap_allowed(true, Some(loopback)));
    }
}
