//! Requests while the server stops (see [`crate::shutdown`]): a new one is refused with 503, and
//! one still unanswered when the grace period ends gets the same 503 instead of a dropped
//! connection. Both close their connection. Streams that have begun are ended by their bodies
//! ([`crate::shutdown::cut_off`]), not here.

use std::future::Future;

use actix_web::http::ConnectionType;
use actix_web::HttpResponse;

use super::ApiError;
use crate::shutdown::SHUTTING_DOWN;

/// 503 `The server is shutting down - retry the request`.
pub fn shutting_down() -> ApiError {
    ApiError::unavailable(SHUTTING_DOWN).with_code("shutting_down")
}

/// Marks `response` as the last on its connection: the client opens a new one (elsewhere, or
/// after the restart) rather than reuse one about to close.
pub fn closing(mut response: HttpResponse) -> HttpResponse {
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    response
}

/// The handler's response, or `None` if `cut` (the end of the shutdown grace period) comes
/// first: then the handler is dropped, which cancels its upstream request, and the caller
/// answers 503 [`shutting_down`].
pub async fn until_cut<T>(
    call: impl Future<Output = T>,
    cut: impl Future<Output = ()>,
) -> Option<T> {
    tokio::select! {
        biased;
        response = call => Some(response),
        () = cut => None,
    }
}
