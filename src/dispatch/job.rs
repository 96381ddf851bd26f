//! One claimed job's way through the dispatcher: wait for its destination's turn
//! and a slot, attempt it (or hold it back while its breaker is open), record it.

use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::backoff::RetryPolicy;
use super::breaker::Permit;
use super::deliver::{deliver, Reached};
use super::failover::Held;
pub(super) use super::shared::{Attempted, Shared};
use crate::reload::Snapshot;
use crate::store::{ClaimedJob, StoreError};

/// How long a job whose plugin instance is not configured waits before it is
/// looked at again. A reload that brings the instance back wakes the dispatcher,
/// but the job is only claimed once due.
pub(super) const UNKNOWN_PLUGIN_WAIT: Duration = Duration::from_secs(60);

/// How long a delivered job whose raised events could not be stored waits to be
/// delivered again.
const RAISED_RETRY_MS: i64 = 10_000;

impl Shared {
    /// The policy for `job`: the rule's overrides, then the plugin instance's, then `[dispatch]`.
    fn policy(&self, job: &ClaimedJob, live: &Snapshot) -> RetryPolicy {
        let config = live
            .rules()
            .retry_for(&job.rule)
            .or(live.plugins.retry_for(&job.plugin))
            .or(self.settings.retry);
        RetryPolicy::from_config(config)
    }

    /// Delivers `job`, or holds it back while its destination's breaker is open.
    /// The caller holds the destination's share and a slot.
    async fn attempt(&self, job: &ClaimedJob, live: &Snapshot) -> Attempted {
        let breaker = self.destinations.breaker(&job.plugin);
        let now = self.clock.instant();
        if let Permit::HeldUntil(until) = breaker.permit(now) {
            let mut wait = until.saturating_duration_since(now);
            match self.behind_open_breaker(job, live, &breaker, now) {
                Held::HandOver(handover) => return handover,
                // Back when the fallback may take it, if that comes first.
                Held::HandOverIn(left) => wait = wait.min(left),
                Held::Waits => {}
            }
            let run_at = self
                .clock
                .now_ms()
                .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
            self.metrics.delivery_held(&job.plugin);
            return Attempted::PutBack { run_at };
        }
        let policy = self.policy(job, live);
        let (mut record, reached, raised) = deliver(
            job,
            &live.plugins,
            live.shop(),
            &policy,
            &self.metrics,
            &self.clock,
        )
        .await;
        match reached {
            Reached::Yes => {
                if breaker.record_success() {
                    info!(plugin = %job.plugin, "circuit breaker closed: the destination answers again");
                    self.metrics.breaker(&job.plugin, false);
                }
            }
            Reached::No => {
                breaker.record_failure(self.clock.instant());
                if breaker.is_open() {
                    warn!(plugin = %job.plugin, "circuit breaker open: holding this destination's jobs back");
                    self.metrics.breaker(&job.plugin, true);
                }
            }
        }
        if let Err(err) = self.store_raised(job, live, raised).await {
            // Delivered, but what it raised is not stored: deliver it again, which
            // raises the same events (the plugin's effect is applied once).
            warn!(job_id = job.id, error = %err, "could not store the events the delivery raised; will try again");
            let at = self.clock.now_ms().saturating_add(RAISED_RETRY_MS);
            record.outcome = crate::store::AttemptOutcome::RetryAt(at);
            record.error = Some(format!("could not store the events it raised: {err}"));
        }
        self.after_attempt(job, live, record)
    }

    /// Stores what became of `job`; until then its lease, renewed by the
    /// heartbeat while the job is held, keeps it from being claimed again.
    pub(super) async fn record(
        &self,
        job: &ClaimedJob,
        attempted: Attempted,
    ) -> Result<(), StoreError> {
        match attempted {
            Attempted::PutBack { run_at } => self.store.defer(job.id, job.attempt, run_at).await,
            Attempted::Tried(record) => {
                self.store
                    .record_attempt(job.id, job.attempt, &record)
                    .await
            }
            Attempted::FailOver { tried, next } => {
                let now = self.clock.now_ms();
                self.store
                    .fail_over(job.id, job.attempt, tried.as_ref(), &next, now)
                    .await
            }
        }
    }

    /// Attempts `job` once its destination has room and the gate has a slot free,
    /// then records it. Both are given back as soon as the delivery is over, so
    /// the next job's delivery overlaps this one's record. A job still waiting
    /// when the dispatcher stops goes back to the queue instead of holding the
    /// shutdown up.
    ///
    /// The destination's share comes first: a job waiting for a destination at
    /// its `max_concurrency` then holds no slot, and a slow destination's backlog
    /// cannot take every slot from the jobs of the others.
    ///
    /// A job whose plugin instance is not configured (removed by a reload) waits
    /// in the queue for it to come back, or for an operator to purge it.
    pub(super) async fn run(&self, job: ClaimedJob, gate: Option<&Gate>) -> Result<(), StoreError> {
        let live = self.live.get();
        if live.plugins.get(&job.plugin).is_none() {
            warn!(job_id = job.id, event_id = %job.event.id, plugin = %job.plugin, retry_in_secs = UNKNOWN_PLUGIN_WAIT.as_secs(),
                  "plugin instance is not configured: the job stays queued until it is (or is purged)");
            self.metrics.delivery_deferred(&job.plugin);
            let wait = i64::try_from(UNKNOWN_PLUGIN_WAIT.as_millis()).unwrap_or(i64::MAX);
            let back = Attempted::PutBack {
                run_at: self.clock.now_ms().saturating_add(wait),
            };
            return self.record(&job, back).await;
        }
        let mut job = job;
        if let Some(waits) = self.resolve_links(&mut job, &live).await {
            return self.record(&job, waits).await;
        }
        if let Some(waits) = self.fill_customer(&mut job).await {
            return self.record(&job, waits).await;
        }
        if let Some(waits) = self.fill_line_items(&mut job, &live).await {
            return self.record(&job, waits).await;
        }
        if let Some(gated) = self.followup_gate(&job, &live).await {
            return self.record(&job, gated).await;
        }
        if let Some(gated) = self.order_gate(&job, &live).await {
            return self.record(&job, gated).await;
        }
        let limit = live.plugins.max_concurrency(&job.plugin);
        let limit = self.destinations.share(&job.plugin, limit);
        // None is ever closed; deliver unlimited if one were.
        let turn = async {
            let share = limit.acquire_owned().await.ok();
            // Its instance's pace, before a slot: a job waiting for it holds only
            // its own destination's share.
            let rate = live.plugins.delivery(&job.plugin).rate_limit;
            self.rates.wait(&job.plugin, rate).await;
            let slot = match gate {
                Some(gate) => gate.slots.acquire().await.ok(),
                None => None,
            };
            (share, slot)
        };
        let (share, slot) = match gate {
            Some(gate) => tokio::select! {
                turn = turn => turn,
                () = gate.stop.cancelled() => {
                    let back = Attempted::PutBack { run_at: self.clock.now_ms() };
                    return self.record(&job, back).await;
                }
            },
            None => turn.await,
        };
        let attempted = self.attempt(&job, &live).await;
        drop((slot, share));
        self.record(&job, attempted).await
    }
}

/// What the running dispatcher's tasks wait on before delivering.
pub(super) struct Gate {
    /// One permit per delivery in flight (`dispatch.concurrency`).
    pub(super) slots: Semaphore,
    /// Cancelled when the dispatcher stops.
    pub(super) stop: CancellationToken,
}
