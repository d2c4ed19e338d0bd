//! Prometheus metrics, one registry per server (tests run several servers in
//! one process), rendered by `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use std::sync::atomic::AtomicU64;

use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// query, mutation, subscription, or invalid.
    pub operation: &'static str,
    /// ok or error.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabel {
    pub operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabel {
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub channel: String,
    /// The outcome of the attempt: sent, retry or failed.
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabel {
    pub channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabel {
    /// idle or in_use.
    pub state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    pub graphql_requests: Family<RequestLabels, Counter>,
    pub graphql_duration: Histograms<OperationLabel>,
    pub notifications_created: Family<TypeLabel, Counter>,
    pub delivery_attempts: Family<DeliveryLabels, Counter>,
    pub delivery_duration: Histograms<ChannelLabel>,
    pub outbox_depth: Gauge,
    pub outbox_oldest_due_age: Gauge<f64, AtomicU64>,
    pub live_subscribers: Gauge,
    pub live_events: Counter,
    pub rate_limit_suppressed: Counter,
    pub db_pool: Family<PoolLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("herald");
        let m = Metrics {
            graphql_requests: Family::default(),
            graphql_duration: Family::new_with_constructor(latency_histogram),
            notifications_created: Family::default(),
            delivery_attempts: Family::default(),
            delivery_duration: Family::new_with_constructor(latency_histogram),
            outbox_depth: Gauge::default(),
            outbox_oldest_due_age: Gauge::default(),
            live_subscribers: Gauge::default(),
            live_events: Counter::default(),
            rate_limit_suppressed: Counter::default(),
            db_pool: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "graphql_requests",
            "GraphQL requests by operation type and outcome",
            m.graphql_requests.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "Time to answer a GraphQL request",
            m.graphql_duration.clone(),
        );
        registry.register(
            "notifications_created",
            "Notifications stored, by type",
            m.notifications_created.clone(),
        );
        registry.register(
            "delivery_attempts",
            "Delivery attempts by channel and outcome (sent, retry, failed)",
            m.delivery_attempts.clone(),
        );
        registry.register(
            "delivery_attempt_duration_seconds",
            "Time of one delivery attempt, by channel",
            m.delivery_duration.clone(),
        );
        registry.register(
            "outbox_depth",
            "Deliveries waiting to be sent (PENDING or RETRYING)",
            m.outbox_depth.clone(),
        );
        registry.register(
            "outbox_oldest_due_age_seconds",
            "How long the oldest due delivery has been waiting",
            m.outbox_oldest_due_age.clone(),
        );
        registry.register(
            "live_subscribers",
            "Open GraphQL subscriptions",
            m.live_subscribers.clone(),
        );
        registry.register(
            "live_events_published",
            "Events published to live subscribers",
            m.live_events.clone(),
        );
        registry.register(
            "rate_limit_suppressed",
            "Exception notifications suppressed by the rate limit",
            m.rate_limit_suppressed.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            m.db_pool.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    pub fn notification_created(&self, kind: &str) {
        self.notifications_created
            .get_or_create(&TypeLabel {
                r#type: kind.to_owned(),
            })
            .inc();
    }
}
