//! Moxxy's own overhead per completion, made visible to users: the `x-moxxy-overhead-ms`
//! response header and the `moxxy_overhead_seconds` histogram of `/metrics`.
//!
//! A gateway is judged by what it adds to every request; this says it for each one, beside the
//! upstream's own latency, so a slow answer can be told apart from a slow gateway.
//!
//! **Overhead = the time Moxxy held the request − the time the upstream held it**, where:
//!
//! - Moxxy's time starts at the request's arrival: when the first middleware sees it
//!   ([`super::super::middleware::request_context`]), its head parsed by actix, its body not yet
//!   read;
//! - for a non-streamed completion, Moxxy's time ends once the response body is encoded, ready
//!   to be written; the upstream's time ([`UpstreamMeta::upstream_time`]) runs from the first
//!   send upstream to its whole answer read;
//! - for a stream, Moxxy's time ends when the response head is handed to actix — which happens
//!   the moment the upstream's first real event is in, and is followed at once by that event's
//!   chunk, so this is the overhead on the time to first byte; the upstream's time runs from
//!   the first send to the bytes holding that first event.
//!
//! Not counted: writing the response to the socket, and for a stream every event after the
//! first (relaying them is measured by the load benchmark, `examples/bench`). Failed requests
//! carry no header and are not observed: an error's upstream time is not known.

use std::future::{ready, Ready};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use moxxy_actors::provider::UpstreamMeta;

use crate::api::metrics::{CompletionRoute, Delivery, Metrics};

/// The response header that carries the overhead, in milliseconds with three decimals.
pub const HEADER: &str = "x-moxxy-overhead-ms";

/// When a request arrived: put in its extensions by the request middleware, read by the
/// completion handlers as an extractor.
#[derive(Clone, Copy, Debug)]
pub struct Arrival(pub Instant);

impl FromRequest for Arrival {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    /// The instant the middleware noted; now, for an app mounted without it (then the overhead
    /// only misses the time before the handler).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let arrival = req.extensions().get::<Arrival>().copied();
        ready(Ok(arrival.unwrap_or_else(|| Arrival(Instant::now()))))
    }
}

/// The overhead of a completion answered now, after `arrival`, whose upstream part is `meta`'s.
pub fn measure(arrival: Arrival, meta: &UpstreamMeta) -> Duration {
    arrival.0.elapsed().saturating_sub(meta.upstream_time)
}

/// Measures the overhead of `response`, observes it in the histogram and sets the header.
pub fn report(
    response: &mut HttpResponse,
    metrics: &Metrics,
    route: CompletionRoute,
    delivery: Delivery,
    arrival: Arrival,
    meta: &UpstreamMeta,
) {
    let overhead = measure(arrival, meta);
    metrics.record_overhead(route, delivery, overhead);
    if let Ok(value) = HeaderValue::from_str(&format_ms(overhead)) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
}

/// `1.234`: milliseconds with microsecond precision.
pub fn format_ms(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_milliseconds_with_three_decimals() {
        assert_eq!(format_ms(Duration::from_micros(1234)), "1.234");
        assert_eq!(format_ms(Duration::ZERO), "0.000");
        assert_eq!(format_ms(Duration::from_secs(2)), "2000.000");
    }

    #[test]
    fn upstream_time_is_taken_off_and_never_below_zero() {
        let arrival = Arrival(Instant::now());
        let meta = UpstreamMeta {
            upstream_time: Duration::from_secs(3600),
            ..UpstreamMeta::default()
        };
        assert_eq!(measure(arrival, &meta), Duration::ZERO);
        let meta = UpstreamMeta::default();
        assert!(measure(arrival, &meta) <= arrival.0.elapsed());
    }
}
