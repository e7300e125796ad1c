//! Answering one request: read it, record it, pick its reply, turn the reply into a response.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;

use crate::body::{ReplyBody, ScriptedStream};
use crate::record::RecordedRequest;
use crate::reply::{Head, Kind, Reply};
use crate::script::Picked;
use crate::state::{ConnCtl, Shared};

/// The service error that makes hyper drop the connection without a response (`Reply::reset`,
/// or a request body that never arrived).
#[derive(Debug)]
pub(crate) struct NoResponse;

impl std::fmt::Display for NoResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fake-upstream: connection closed without a response")
    }
}

impl std::error::Error for NoResponse {}

/// Serves one request on connection `conn`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnCtl>,
    request: Request<Incoming>,
) -> Result<Response<ReplyBody>, NoResponse> {
    let received_at = Instant::now();
    // Counts a client that leaves before the response exists; disarmed once it does.
    let mut abandoned = Abandoned(Some(shared.as_ref()));
    let (parts, incoming) = request.into_parts();
    let body = read_body(incoming).await.map_err(|_| NoResponse)?;
    shared.requests_served.fetch_add(1, Ordering::AcqRel);
    if shared.recording.load(Ordering::Acquire) {
        shared.record(RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            headers: parts
                .headers
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect(),
            body: body.clone(),
            received_at,
            connection: conn.id,
        });
    }

    let picked = shared.script.next(parts.uri.path());
    let mut reply: &Reply = match &picked {
        Picked::Once(reply) => reply,
        Picked::Default(reply) => reply,
        Picked::Missing => {
            abandoned.disarm();
            return Ok(nothing_scripted(parts.method.as_str(), parts.uri.path()));
        }
    };
    loop {
        match &reply.0 {
            Kind::Delay(delay, inner) => {
                tokio::time::sleep(*delay).await;
                reply = inner;
            }
            Kind::ByStreamFlag {
                streamed,
                plain,
                absent_streams,
            } => {
                reply = if stream_flag(&body).unwrap_or(*absent_streams) {
                    streamed
                } else {
                    plain
                };
            }
            Kind::Full { head, body } => {
                abandoned.disarm();
                return Ok(respond(head, ReplyBody::whole(body.clone())));
            }
            Kind::Stream(stream) => {
                abandoned.disarm();
                // Built before the slow first byte, so a client that leaves during it is
                // counted as an aborted stream when the body is dropped.
                let body = ScriptedStream::new(stream, Arc::clone(&shared), Arc::clone(&conn));
                if !stream.headers_delay.is_zero() {
                    tokio::time::sleep(stream.headers_delay).await;
                }
                return Ok(respond(&stream.head, ReplyBody::Stream(body)));
            }
            Kind::Reset => {
                abandoned.disarm();
                conn.reset_on_close();
                return Err(NoResponse);
            }
        }
    }
}

/// The request body, without copying when it arrived in one frame.
async fn read_body(mut incoming: Incoming) -> Result<Bytes, hyper::Error> {
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = incoming.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        match (&mut joined, first.take()) {
            (Some(joined), _) => joined.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(earlier)) => {
                let mut both = BytesMut::with_capacity(earlier.len() + data.len());
                both.extend_from_slice(&earlier);
                both.extend_from_slice(&data);
                joined = Some(both);
            }
        }
    }
    Ok(joined.map_or_else(|| first.unwrap_or_default(), BytesMut::freeze))
}

/// The `"stream"` field of a JSON request body, when it is a boolean.
fn stream_flag(body: &[u8]) -> Option<bool> {
    /// Only the one field: serde skips the rest without building it.
    #[derive(Deserialize)]
    struct Flag {
        stream: Option<serde_json::Value>,
    }
    serde_json::from_slice::<Flag>(body).ok()?.stream?.as_bool()
}

fn respond(head: &Head, body: ReplyBody) -> Response<ReplyBody> {
    let status = StatusCode::from_u16(head.status);
    match (&head.problem, status) {
        (None, Ok(status)) => {
            let mut response = Response::new(body);
            *response.status_mut() = status;
            *response.headers_mut() = head.headers.clone();
            response
        }
        (Some(problem), _) => script_error(problem),
        (None, Err(_)) => script_error(&format!("invalid status code {}", head.status)),
    }
}

/// A mistake in the test's script, made visible as a 500 with a plain-text explanation.
fn script_error(problem: &str) -> Response<ReplyBody> {
    let text = format!("fake-upstream script error: {problem}");
    let mut response = Response::new(ReplyBody::whole(Bytes::from(text)));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// The 404 for a path with no queued reply and no default.
fn nothing_scripted(method: &str, path: &str) -> Response<ReplyBody> {
    let body = serde_json::json!({
        "error": {
            "type": "not_found_error",
            "message": format!("fake-upstream: no reply scripted for {method} {path}"),
        }
    });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = Response::new(ReplyBody::whole(Bytes::from(bytes)));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(crate::reply::JSON));
    response
}

/// Counts the request as abandoned if the handler is dropped while armed.
struct Abandoned<'a>(Option<&'a Shared>);

impl Abandoned<'_> {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if let Some(shared) = self.0 {
            shared.reply_abandoned();
        }
    }
}
