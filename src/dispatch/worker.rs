//! One delivery: run the plugin for a claimed job and decide what becomes of it.

use std::time::Duration;

use herald_plugin_api::{Context, Job, Outcome};
use serde_json::Value;
use tracing::{info, warn};

use super::backoff::RetryPolicy;
use crate::metrics::Metrics;
use crate::plugins::PluginSet;
use crate::store::{AttemptOutcome, AttemptRecord, ClaimedJob};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether the destination answered, for its circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// It answered (delivered, or refused for good).
    Yes,
    /// It failed temporarily (timeout, refused connection, 5xx, 429, SMTP 4xx).
    No,
}

/// Delivers `job` and returns the record to store. Never fails: every problem,
/// including a plugin that is no longer configured, becomes the attempt's outcome.
pub async fn deliver(
    job: &ClaimedJob,
    plugins: &PluginSet,
    shop: &Value,
    policy: &RetryPolicy,
    metrics: &Metrics,
) -> (AttemptRecord, Reached) {
    let started_at_ms = now_ms();
    let outcome = match plugins.get(&job.plugin) {
        None => Outcome::failed(format!(
            "plugin instance `{}` is not configured",
            job.plugin
        )),
        Some(plugin) => {
            let context = Context::new(&job.event, shop, &job.params);
            plugin
                .deliver(&Job {
                    event: &job.event,
                    params: &job.params,
                    context: &context,
                    idempotency_key: &job.idempotency_key,
                    attempt: job.attempt,
                    rule: &job.rule,
                })
                .await
        }
    };
    let finished_at_ms = now_ms();
    let reached = if matches!(outcome, Outcome::Retry { .. }) {
        Reached::No
    } else {
        Reached::Yes
    };
    let age = Duration::from_millis(
        u64::try_from(finished_at_ms.saturating_sub(job.queued_at_ms)).unwrap_or(0),
    );
    let (next, error) = match outcome {
        Outcome::Delivered => {
            info!(job = job.id, key = %job.idempotency_key, attempt = job.attempt, "delivered");
            (AttemptOutcome::Delivered, None)
        }
        Outcome::Retry { after, reason } => {
            let delay = policy.delay(job.attempts_since_queued, after);
            if policy.allows_retry_after(job.attempts_since_queued, age, delay) {
                warn!(job = job.id, key = %job.idempotency_key, attempt = job.attempt,
                      retry_in_ms = millis(delay), %reason, "delivery failed, will retry");
                let at = finished_at_ms.saturating_add(millis(delay));
                (AttemptOutcome::RetryAt(at), Some(reason.into_owned()))
            } else {
                warn!(job = job.id, key = %job.idempotency_key, attempt = job.attempt, %reason,
                      "delivery failed and its retry budget is spent: dead letter");
                (AttemptOutcome::Exhausted, Some(reason.into_owned()))
            }
        }
        Outcome::Failed { reason } => {
            warn!(job = job.id, key = %job.idempotency_key, attempt = job.attempt, %reason,
                  "delivery failed permanently: dead letter");
            (AttemptOutcome::Failed, Some(reason.into_owned()))
        }
    };
    let label = match next {
        AttemptOutcome::Delivered => "delivered",
        AttemptOutcome::RetryAt(_) => "retry",
        AttemptOutcome::Failed => "failed",
        AttemptOutcome::Exhausted => "exhausted",
    };
    metrics.incr(
        "herald_deliveries_total",
        &[("plugin", &job.plugin), ("outcome", label)],
    );
    let record = AttemptRecord {
        started_at_ms,
        finished_at_ms,
        outcome: next,
        error,
    };
    (record, reached)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
