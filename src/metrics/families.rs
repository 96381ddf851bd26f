//! The metric families herald registers, their label sets and their buckets.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// A gauge holding a float (seconds, a timestamp).
pub(super) type FloatGauge = Gauge<f64, AtomicU64>;

/// `{source, type, outcome}` of a webhook herald acknowledged.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Received {
    pub source: String,
    pub r#type: String,
    pub outcome: &'static str,
}

/// `{source, reason}` of a webhook herald refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Rejected {
    pub source: String,
    pub reason: &'static str,
}

/// `{source}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Source {
    pub source: String,
}

/// `{reason}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Reason {
    pub reason: &'static str,
}

/// `{plugin}`: a configured plugin instance.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Plugin {
    pub plugin: String,
}

/// `{plugin, outcome}` of one delivery attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Delivered {
    pub plugin: String,
    pub outcome: &'static str,
}

/// `{plugin, to}` of a job handed from an instance to its fallback.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct FailedOver {
    pub plugin: String,
    pub to: String,
}

/// `{plugin, rule}` of a job whose rule no longer held at delivery.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Skipped {
    pub plugin: String,
    pub rule: String,
}

/// `{plugin, state}` of the jobs in the queue.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Queued {
    pub plugin: String,
    pub state: &'static str,
}

/// `{outcome}` of a config reload.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Outcome {
    pub outcome: &'static str,
}

/// `{version}` of the running build.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Build {
    version: &'static str,
}

/// Creates the series `labels` of `family` (at 0) unless it exists.
pub(super) fn create<S, M, C>(family: &Family<S, M, C>, labels: &S)
where
    S: Clone + std::hash::Hash + Eq,
    C: MetricConstructor<M>,
{
    let _created = family.get_or_create(labels);
}

/// Builds a histogram with fixed buckets, for a [`Family`] of them.
#[derive(Clone, Copy)]
pub(super) struct Buckets {
    start: f64,
    factor: f64,
    count: u16,
}

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(self.start, self.factor, self.count))
    }
}

/// An acknowledgement: 1 ms to about 8 s.
const ACK_BUCKETS: Buckets = Buckets {
    start: 0.001,
    factor: 2.0,
    count: 14,
};
/// A plugin's call: 5 ms to about 40 s (past a plugin's own timeout).
const DELIVERY_BUCKETS: Buckets = Buckets {
    start: 0.005,
    factor: 2.0,
    count: 14,
};
/// From the 200 to the delivery, retries included: 10 ms to about 12 h.
const TO_DELIVERY_BUCKETS: Buckets = Buckets {
    start: 0.01,
    factor: 4.0,
    count: 12,
};

/// Every family, each cheap to clone (the registry holds clones).
pub(super) struct Families {
    pub received: Family<Received, Counter>,
    pub rejected: Family<Rejected, Counter>,
    pub ack_seconds: Family<Source, Histogram, Buckets>,
    pub refusals: Family<Reason, Counter>,
    pub closed: Family<Reason, Counter>,
    pub deliveries: Family<Delivered, Counter>,
    pub delivery_seconds: Family<Plugin, Histogram, Buckets>,
    pub to_delivery_seconds: Family<Plugin, Histogram, Buckets>,
    pub held: Family<Plugin, Counter>,
    pub deferred: Family<Plugin, Counter>,
    pub failovers: Family<FailedOver, Counter>,
    pub skipped: Family<Skipped, Counter>,
    pub taken_back: Counter,
    pub queue: Family<Queued, Gauge>,
    pub oldest_due: Family<Plugin, FloatGauge>,
    pub dead_letters: Family<Plugin, Gauge>,
    pub breaker_open: Family<Plugin, Gauge>,
    pub reloads: Family<Outcome, Counter>,
    pub last_reload: FloatGauge,
    pub config_problems: Gauge,
}

impl Families {
    /// New families, registered in `registry` under their exposed names (a
    /// counter's name gets its `_total` from the encoder).
    pub fn register(registry: &mut Registry) -> Self {
        let families = Self {
            received: Family::default(),
            rejected: Family::default(),
            ack_seconds: Family::new_with_constructor(ACK_BUCKETS),
            refusals: Family::default(),
            closed: Family::default(),
            deliveries: Family::default(),
            delivery_seconds: Family::new_with_constructor(DELIVERY_BUCKETS),
            to_delivery_seconds: Family::new_with_constructor(TO_DELIVERY_BUCKETS),
            held: Family::default(),
            deferred: Family::default(),
            failovers: Family::default(),
            skipped: Family::default(),
            taken_back: Counter::default(),
            queue: Family::default(),
            oldest_due: Family::default(),
            dead_letters: Family::default(),
            breaker_open: Family::default(),
            reloads: Family::default(),
            last_reload: FloatGauge::default(),
            config_problems: Gauge::default(),
        };
        let f = &families;
        let r = registry;
        r.register(
            "herald_webhooks",
            "Webhooks acknowledged with a 200, by source, event type and outcome (stored or duplicate)",
            f.received.clone(),
        );
        r.register(
            "herald_webhooks_rejected",
            "Webhooks refused by the receiver, by source and reason",
            f.rejected.clone(),
        );
        r.register_with_unit(
            "herald_webhook_ack",
            "Time from a webhook's request to herald's answer, by source",
            Unit::Seconds,
            f.ack_seconds.clone(),
        );
        r.register(
            "herald_http_refusals",
            "Connections and requests refused before a handler, by reason",
            f.refusals.clone(),
        );
        r.register(
            "herald_connections_closed",
            "Connections herald closed on its own, by reason",
            f.closed.clone(),
        );
        r.register(
            "herald_deliveries",
            "Delivery attempts, by plugin instance and outcome (delivered, retry, failed, exhausted)",
            f.deliveries.clone(),
        );
        r.register_with_unit(
            "herald_delivery",
            "Time one delivery attempt took, by plugin instance",
            Unit::Seconds,
            f.delivery_seconds.clone(),
        );
        r.register_with_unit(
            "herald_webhook_to_delivery",
            "Time from a job's queueing (the webhook's 200, or a replay) to its delivery, by plugin instance",
            Unit::Seconds,
            f.to_delivery_seconds.clone(),
        );
        r.register(
            "herald_deliveries_held",
            "Jobs put back because their destination's circuit breaker was open",
            f.held.clone(),
        );
        r.register(
            "herald_deliveries_deferred",
            "Looks at jobs whose plugin instance is not configured",
            f.deferred.clone(),
        );
        r.register(
            "herald_failovers",
            "Jobs handed from a plugin instance to the next fallback of their action, by instance and fallback",
            f.failovers.clone(),
        );
        r.register(
            "herald_jobs_skipped",
            "Jobs not sent because their rule's order condition no longer held at delivery, by instance and rule",
            f.skipped.clone(),
        );
        r.register(
            "herald_leases_taken_back",
            "Jobs taken back from a worker that stopped beating",
            f.taken_back.clone(),
        );
        r.register(
            "herald_queue_jobs",
            "Pending jobs in the shared queue, by plugin instance and state (due, retrying, leased)",
            f.queue.clone(),
        );
        r.register_with_unit(
            "herald_queue_oldest_due_age",
            "How long the longest-waiting due job has been due, by plugin instance (0 when none)",
            Unit::Seconds,
            f.oldest_due.clone(),
        );
        r.register(
            "herald_dead_letters",
            "Dead letters in the store, by plugin instance",
            f.dead_letters.clone(),
        );
        r.register(
            "herald_breaker_open",
            "1 while a plugin instance's circuit breaker is open or probing, else 0",
            f.breaker_open.clone(),
        );
        r.register(
            "herald_config_reloads",
            "Config reloads, by outcome (ok or failed)",
            f.reloads.clone(),
        );
        r.register(
            "herald_config_last_reload_success_timestamp_seconds",
            "When the config in force was loaded (start-up or the last good reload), Unix seconds",
            f.last_reload.clone(),
        );
        r.register(
            "herald_config_problems",
            "Problems herald check finds in the config in force (templates that would not render, conditions on fields no event has); 0 when it passes",
            f.config_problems.clone(),
        );
        r.register(
            "herald_build",
            "The running herald's version",
            Info::new(Build {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        families
    }
}
