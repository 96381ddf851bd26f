//! [`Shared`]: what the dispatcher's tasks share, and [`Attempted`], what became
//! of a claimed job. Its own module so the parts that act on it (`job`, `heartbeat`,
//! `failover`, `order_gate`) depend on it and not on each other.

use std::sync::Arc;

use super::destinations::Destinations;
use super::in_flight::InFlight;
use super::rate::Rates;
use crate::clock::Clock;
use crate::config::DispatchSettings;
use crate::metrics::Metrics;
use crate::reload::Live;
use crate::store::{AttemptOutcome, AttemptRecord, ClaimedJob, Handover, Store};

/// Everything a delivery needs, shared by the worker tasks.
pub(super) struct Shared {
    pub(super) store: Store,
    /// The rules, plugins and shop in force; each job reads them once, at its start.
    pub(super) live: Live,
    pub(super) settings: DispatchSettings,
    /// Each instance's breaker, and its share of the deliveries in flight so one
    /// destination never gets more than its `max_concurrency` however many jobs are due.
    pub(super) destinations: Destinations,
    /// Each instance's `rate_limit` bucket.
    pub(super) rates: Rates,
    pub(super) metrics: Arc<Metrics>,
    /// Where every time the dispatcher stores is read.
    pub(super) clock: Clock,
    /// The jobs claimed and not yet recorded, whose leases the heartbeat renews.
    pub(super) in_flight: InFlight,
    /// Stripe's API, when `[sources.stripe] api_key` is set: a customer the
    /// directory does not know is asked for there.
    pub(super) stripe: Option<crate::stripe_api::StripeApi>,
}

/// What became of a claimed job, before it is stored.
pub(super) enum Attempted {
    /// Delivered, or tried: the attempt to record.
    Tried(AttemptRecord),
    /// Not attempted (an open breaker, or a stop before its turn): back in the
    /// queue, due at this time (ms since the epoch), with no attempt spent.
    PutBack { run_at: i64 },
    /// Its instance gave up on it after `tried` (or, with `None`, held it back
    /// behind a breaker open too long): the next fallback takes it.
    FailOver {
        tried: Option<AttemptRecord>,
        next: Handover,
    },
}

impl Shared {
    /// `job` recorded as skipped for `reason` (a gate found it not to be sent), its
    /// check started at `started_at_ms`.
    pub(super) fn skip(&self, job: &ClaimedJob, started_at_ms: i64, reason: String) -> Attempted {
        self.metrics.job_skipped(&job.plugin, &job.rule);
        Attempted::Tried(AttemptRecord {
            plugin: job.plugin.clone(),
            started_at_ms,
            finished_at_ms: self.clock.now_ms(),
            outcome: AttemptOutcome::Skipped,
            error: Some(reason),
        })
    }
}
