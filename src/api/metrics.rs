//! Prometheus metrics: requests and latency per route, upstream errors, retries, tokens in and out
//! per provider and model, and Moxxy's own overhead per completion. Rendered in the Prometheus
//! text format by `GET /metrics`.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route's pattern (`/v1/providers/{id}`), never the raw path, so ids do not explode the
    /// label space.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamErrorLabels {
    pub provider: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CompletionLabels {
    pub provider: String,
    pub model: String,
    /// `ok` or `error`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub provider: String,
    pub model: String,
    /// `input` or `output`.
    pub direction: String,
}

/// The completion route a request came by.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum CompletionRoute {
    ChatCompletions,
    Messages,
}

impl CompletionRoute {
    pub fn as_str(self) -> &'static str {
        match self {
            CompletionRoute::ChatCompletions => "/v1/chat/completions",
            CompletionRoute::Messages => "/v1/messages",
        }
    }
}

impl EncodeLabelValue for CompletionRoute {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

/// Whether a completion was answered whole or streamed.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Delivery {
    Complete,
    Stream,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Complete => "complete",
            Delivery::Stream => "stream",
        }
    }
}

impl EncodeLabelValue for Delivery {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

/// Labels of the overhead histogram. Plain values, not strings: observing one allocates nothing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OverheadLabels {
    pub route: CompletionRoute,
    pub mode: Delivery,
}

/// The server's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub upstream_errors: Family<UpstreamErrorLabels, Counter>,
    pub tokens: Family<TokenLabels, Counter>,
    pub completions: Family<CompletionLabels, Counter>,
    /// Moxxy's own time per completion (see `api::completion::overhead`).
    pub overhead: Family<OverheadLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "moxxy_http_requests",
            "HTTP requests served",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 0.5 ms to ~16 s.
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "moxxy_http_request_duration_seconds",
            "Time from request to response head",
            latency.clone(),
        );
        let upstream_errors = Family::<UpstreamErrorLabels, Counter>::default();
        registry.register(
            "moxxy_upstream_errors",
            "Completions that failed, by provider and error kind",
            upstream_errors.clone(),
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "moxxy_tokens",
            "Tokens reported by upstreams, by provider, model and direction",
            tokens.clone(),
        );
        let completions = Family::<CompletionLabels, Counter>::default();
        registry.register(
            "moxxy_completions",
            "Completions, by provider, model and outcome",
            completions.clone(),
        );
        let overhead = Family::<OverheadLabels, Histogram>::new_with_constructor(|| {
            // 25 µs to ~0.8 s: the overhead is expected well under a millisecond.
            Histogram::new(exponential_buckets(0.000_025, 2.0, 16))
        });
        registry.register(
            "moxxy_overhead_seconds",
            "Moxxy's own time per completion: total handling time minus the upstream's time \
             (non-streamed: to the encoded answer; streamed: to the first event)",
            overhead.clone(),
        );
        Metrics {
            completions,
            overhead,
            registry: Arc::new(registry),
            requests,
            latency,
            upstream_errors,
            tokens,
        }
    }

    /// Observes one completion's overhead.
    pub fn record_overhead(&self, route: CompletionRoute, mode: Delivery, overhead: Duration) {
        self.overhead
            .get_or_create(&OverheadLabels { route, mode })
            .observe(overhead.as_secs_f64());
    }

    /// Counts a completion's usage.
    pub fn record_usage(&self, provider: &str, model: &str, usage: &moxxy_actors::Usage) {
        for (direction, count) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
        ] {
            self.tokens
                .get_or_create(&TokenLabels {
                    provider: provider.to_string(),
                    model: model.to_string(),
                    direction: direction.to_string(),
                })
                .inc_by(count);
        }
    }

    /// Counts one finished completion: its outcome, and its usage when the upstream reported it.
    pub fn record_completion(
        &self,
        provider: &str,
        model: &str,
        usage: Option<&moxxy_actors::Usage>,
        error: Option<&moxxy_actors::ErrorKind>,
    ) {
        self.completions
            .get_or_create(&CompletionLabels {
                provider: provider.to_string(),
                model: model.to_string(),
                outcome: if error.is_some() { "error" } else { "ok" }.to_string(),
            })
            .inc();
        if let Some(usage) = usage {
            self.record_usage(provider, model, usage);
        }
        if let Some(kind) = error {
            self.record_upstream_error(provider, kind);
        }
    }

    /// Counts a failed completion.
    pub fn record_upstream_error(&self, provider: &str, kind: &moxxy_actors::ErrorKind) {
        self.upstream_errors
            .get_or_create(&UpstreamErrorLabels {
                provider: provider.to_string(),
                kind: format!("{kind:?}").to_lowercase(),
            })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
