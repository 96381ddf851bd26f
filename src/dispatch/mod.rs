//! Deliver stage: workers claim due jobs, hand them to plugins, record attempts.
//!
//! Claiming is a short write that sets a lease naming this instance; delivery
//! happens outside any transaction; the attempt is recorded afterwards. While a
//! job is held, the heartbeat renews its lease, so a slow delivery keeps it. A
//! worker that dies mid-delivery stops beating: its jobs are taken back when
//! herald starts again on SQLite, or by a live replica on PostgreSQL once its
//! heartbeat has been silent for a lease (`dispatch.lease_secs`).
//!
//! `run` holds the loops, `job` one claimed job's way from its turn to its record,
//! `deliver` the plugin call and what it comes to, `claimed` the per-destination
//! count of jobs in hand, `heartbeat` the jobs held and the beat that keeps them,
//! `links` the order and customer an event lacks, found through the links,
//! `order_gate` the second look at rules that read the order.

mod backoff;
mod breaker;
mod claimed;
mod customer;
mod deliver;
mod destinations;
mod failover;
mod followup;
mod heartbeat;
mod in_flight;
mod job;
mod line_items;
mod links;
mod order_gate;
mod raised;
mod rate;
mod run;
mod shared;

use std::sync::Arc;

use tokio::sync::Notify;

pub use self::backoff::RetryPolicy;
pub use self::breaker::{CircuitBreaker, Permit};
use self::destinations::Destinations;
pub use self::raised::{own_event, HERALD_SOURCE};
use self::shared::Shared;
use crate::clock::Clock;
use crate::config::DispatchSettings;
use crate::metrics::Metrics;
use crate::reload::Live;
use crate::store::Store;

/// Jobs per delivery slot that may be claimed and not yet recorded at once: one
/// delivering, the next waiting for its slot, and room for those whose attempts
/// are being recorded. Each holds its event, payload included, so the count stays
/// small.
const CLAIMED_PER_SLOT: usize = 3;

/// What one step of the dispatcher found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// This many jobs were claimed (attempted, or put back by an open breaker).
    JobsAttempted(usize),
    /// Nothing was due.
    EmptyQueue,
}

/// The job dispatcher: cheap to clone, one per process.
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
    wake: Arc<Notify>,
}

impl Dispatcher {
    /// A dispatcher over `store` delivering through the plugins `live` holds, on
    /// the system clock.
    pub fn new(
        store: Store,
        live: Live,
        settings: DispatchSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self::with_clock(store, live, settings, metrics, Clock::system())
    }

    /// Like [`Dispatcher::new`], reading the time from `clock`: when jobs are
    /// due, when attempts start and end, what is old enough to prune.
    pub fn with_clock(
        store: Store,
        live: Live,
        settings: DispatchSettings,
        metrics: Arc<Metrics>,
        clock: Clock,
    ) -> Self {
        let destinations = Destinations::new(settings.breaker_failures, settings.breaker_cooldown);
        // Restart-only settings: the snapshot's are the ones herald started with.
        let stripe = crate::stripe_api::StripeApi::configured(&live.get().config.restart).ok();
        Self {
            shared: Arc::new(Shared {
                store,
                live,
                settings,
                destinations,
                rates: rate::Rates::default(),
                metrics,
                clock,
                in_flight: in_flight::InFlight::default(),
                stripe,
            }),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The handle the receiver pokes after storing jobs, so they go out at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Stripe's API client the deliveries use, when a key is set: the reconcile and
    /// the thin-event fetcher take clones, so all of them share one request budget.
    pub fn stripe(&self) -> Option<crate::stripe_api::StripeApi> {
        self.shared.stripe.clone()
    }

    /// The rules, plugins and shop each job reads at its start; a reload swaps them.
    pub fn live(&self) -> Live {
        self.shared.live.clone()
    }

    /// The breaker of plugin instance `plugin`, once a job has gone to it.
    pub fn breaker(&self, plugin: &str) -> Option<Arc<CircuitBreaker>> {
        self.shared.destinations.existing_breaker(plugin)
    }
}
