//! What the fake saw: one [`RecordedRequest`] per request, kept in arrival order.

use std::time::Instant;

use bytes::Bytes;

/// A request as received, for tests to assert on (what our client really put on the wire).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path with its query string, e.g. `/v1/models?limit=1`.
    pub path: String,
    /// Every header in arrival order, names lowercased, values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The whole request body.
    pub body: Bytes,
    /// When the request head was handed to the fake (before its body was read).
    pub received_at: Instant,
    /// Which connection it came on: the n-th accepted connection has id n (from 1). Equal ids
    /// mean the client reused a keep-alive connection.
    pub connection: u64,
}

impl RecordedRequest {
    /// The body parsed as JSON, or `Value::Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of a header, the name matched without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The path without its query string, as replies are matched.
    pub fn route(&self) -> &str {
        route_of(&self.path)
    }
}

/// The part of a path-and-query before `?`.
pub(crate) fn route_of(path: &str) -> &str {
    path.split_once('?').map_or(path, |(route, _)| route)
}
