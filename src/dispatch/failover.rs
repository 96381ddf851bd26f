//! Failover: when the instance that has a job gives up on it, the next of its
//! action's fallbacks takes the job instead of the dead letters.
//!
//! An instance gives up when an attempt fails for good, when its retries are
//! spent, or when its breaker has stayed open for the instance's
//! `failover_after_secs`. The chain is read from the rules in force at that
//! moment, so a reload that adds a fallback helps jobs already failing. The job
//! keeps its idempotency key: a downstream that saw an earlier try can drop a
//! duplicate.

use std::time::{Duration, Instant};

use tracing::warn;

use super::breaker::CircuitBreaker;
use super::shared::{Attempted, Shared};
use crate::reload::Snapshot;
use crate::rules::Action;
use crate::store::{AttemptOutcome, AttemptRecord, ClaimedJob, Handover};

impl Shared {
    /// What becomes of `job` after its attempt `record`: handed over when its
    /// instance gave up and a fallback is left, otherwise recorded as it is.
    pub(super) fn after_attempt(
        &self,
        job: &ClaimedJob,
        live: &Snapshot,
        record: AttemptRecord,
    ) -> Attempted {
        if !matches!(
            record.outcome,
            AttemptOutcome::Failed | AttemptOutcome::Exhausted
        ) {
            return Attempted::Tried(record);
        }
        let error = record.error.as_deref().unwrap_or("failed");
        let reason = format!("`{}` gave up on it: {error}", job.plugin);
        match self.next_in_chain(job, live, reason) {
            Some(next) => Attempted::FailOver {
                tried: Some(record),
                next,
            },
            None => Attempted::Tried(record),
        }
    }

    /// What becomes of `job`, held back by `breaker` at `now`: handed over once
    /// that breaker has been open for the instance's `failover_after_secs`.
    pub(super) fn behind_open_breaker(
        &self,
        job: &ClaimedJob,
        live: &Snapshot,
        breaker: &CircuitBreaker,
        now: Instant,
    ) -> Held {
        let after = live.plugins.delivery(&job.plugin).failover_after;
        let Some(open) = breaker.open_for(now) else {
            return Held::Waits;
        };
        if !self.has_next(job, live) {
            return Held::Waits;
        }
        if open < after {
            return Held::HandOverIn(after - open);
        }
        let reason = format!(
            "the circuit breaker of `{}` has been open for {} s (failover_after_secs = {})",
            job.plugin,
            open.as_secs(),
            after.as_secs()
        );
        match self.next_in_chain(job, live, reason) {
            Some(next) => Held::HandOver(Attempted::FailOver { tried: None, next }),
            None => Held::Waits,
        }
    }

    /// Whether `job` has a fallback left in the rules in force.
    fn has_next(&self, job: &ClaimedJob, live: &Snapshot) -> bool {
        next_action(job, live).is_some()
    }

    /// The next of `job`'s fallbacks, counted and logged; `None` when its rule,
    /// its action or a fallback after the current one is gone.
    fn next_in_chain(&self, job: &ClaimedJob, live: &Snapshot, reason: String) -> Option<Handover> {
        let next = next_action(job, live)?;
        warn!(job_id = job.id, key = %job.idempotency_key, from = %job.plugin, to = %next.plugin(),
              %reason, "not a dead letter: handing the job over to the next fallback");
        self.metrics.failed_over(&job.plugin, next.plugin());
        Some(Handover {
            plugin: next.plugin().to_owned(),
            params: next.params().clone(),
            failovers: job.failovers.saturating_add(1),
            reason,
        })
    }
}

/// What becomes of a job its instance's open breaker holds back.
pub(super) enum Held {
    /// The breaker has been open long enough: the next fallback takes it now.
    HandOver(Attempted),
    /// The next fallback takes it once the breaker has been open this much longer.
    HandOverIn(Duration),
    /// It waits for the breaker: no fallback is left.
    Waits,
}

/// The fallback after the one that has `job` now, in the rules in force.
fn next_action<'l>(job: &ClaimedJob, live: &'l Snapshot) -> Option<&'l Action> {
    let rule = live.rules().iter().find(|rule| rule.name() == job.rule)?;
    let action = rule.actions().get(job.action_index)?;
    action.fallback().get(usize::try_from(job.failovers).ok()?)
}
