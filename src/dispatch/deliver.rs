//! One delivery: run the plugin for a claimed job and decide what becomes of it.

use std::time::{Duration, Instant};

use herald_plugin_api::{Context, Job, Outcome, Raised, RaisedEvent};
use serde_json::Value;
use tracing::{info, warn};

use super::backoff::RetryPolicy;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::plugins::PluginSet;
use crate::store::{AttemptOutcome, AttemptRecord, ClaimedJob};

/// Whether the destination answered, for its circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// It answered (delivered, or refused for good).
    Yes,
    /// It failed temporarily (timeout, refused connection, 5xx, 429, SMTP 4xx).
    No,
}

/// Delivers `job` and returns the record to store, with the events the delivery
/// raised (none unless it was delivered). Never fails: every problem, including a
/// plugin that is no longer configured, becomes the attempt's outcome.
pub async fn deliver(
    job: &ClaimedJob,
    plugins: &PluginSet,
    shop: &Value,
    policy: &RetryPolicy,
    metrics: &Metrics,
    clock: &Clock,
) -> (AttemptRecord, Reached, Vec<RaisedEvent>) {
    let started_at_ms = clock.now_ms();
    let started = Instant::now();
    let raised = Raised::new();
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
                    raised: &raised,
                })
                .await
        }
    };
    let finished_at_ms = clock.now_ms();
    let took = started.elapsed();
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
            info!(job_id = job.id, event_id = %job.event.id, plugin = %job.plugin,
                  key = %job.idempotency_key, attempt = job.attempt, "delivered");
            (AttemptOutcome::Delivered, None)
        }
        Outcome::Retry { after, reason } => {
            let delay = policy.delay(job.attempts_since_queued, after);
            if policy.allows_retry_after(job.attempts_since_queued, age, delay) {
                warn!(job_id = job.id, event_id = %job.event.id, plugin = %job.plugin,
                      key = %job.idempotency_key, attempt = job.attempt, retry_in_ms = millis(delay), %reason, "delivery failed, will retry");
                let at = finished_at_ms.saturating_add(millis(delay));
                (AttemptOutcome::RetryAt(at), Some(reason.into_owned()))
            } else {
                warn!(job_id = job.id, event_id = %job.event.id, plugin = %job.plugin,
                      key = %job.idempotency_key, attempt = job.attempt, %reason,
                      "delivery failed and its retry budget is spent: dead letter");
                (AttemptOutcome::Exhausted, Some(reason.into_owned()))
            }
        }
        Outcome::Failed { reason } => {
            warn!(job_id = job.id, event_id = %job.event.id, plugin = %job.plugin,
                  key = %job.idempotency_key, attempt = job.attempt, %reason,
                  "delivery failed permanently: dead letter");
            (AttemptOutcome::Failed, Some(reason.into_owned()))
        }
        Outcome::Skipped { reason } => {
            info!(job_id = job.id, event_id = %job.event.id, plugin = %job.plugin,
                  key = %job.idempotency_key, attempt = job.attempt, %reason,
                  "skipped: nothing for the instance to do");
            metrics.job_skipped(&job.plugin, &job.rule);
            (AttemptOutcome::Skipped, Some(reason.into_owned()))
        }
        Outcome::Held { reason } => {
            warn!(job_id = job.id, event_id = %job.event.id, plugin = %job.plugin,
                  key = %job.idempotency_key, attempt = job.attempt, %reason,
                  "held until the templates are fixed: a good reload sends it, no replay needed");
            (AttemptOutcome::Held, Some(reason.into_owned()))
        }
    };
    let label = match next {
        AttemptOutcome::Delivered => "delivered",
        AttemptOutcome::RetryAt(_) => "retry",
        AttemptOutcome::Failed => "failed",
        AttemptOutcome::Exhausted => "exhausted",
        AttemptOutcome::Skipped => "skipped",
        AttemptOutcome::Held => "held",
    };
    let queued_for = (next == AttemptOutcome::Delivered).then_some(age);
    metrics.delivery(&job.plugin, label, took, queued_for);
    let record = AttemptRecord {
        plugin: job.plugin.clone(),
        started_at_ms,
        finished_at_ms,
        outcome: next,
        error,
    };
    let raised = if next == AttemptOutcome::Delivered {
        raised.take()
    } else {
        Vec::new()
    };
    (record, reached, raised)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};

    use super::*;
    use herald_plugin_api::RetryConfig;

    fn job(plugin: &str) -> ClaimedJob {
        let event = serde_json::from_value(json!({
            "id": "evt_1", "source": "stripe", "type": "charge.refunded", "created": 1,
            "livemode": false, "object_id": null, "order_id": null,
            "customer": {"email": null, "phone": null, "name": null},
            "amount": null, "currency": null
        }))
        .expect("event");
        ClaimedJob {
            id: 1,
            event,
            rule: "r".to_owned(),
            action_index: 0,
            failovers: 0,
            plugin: plugin.to_owned(),
            params: Map::new(),
            idempotency_key: "stripe:evt_1:r:0".to_owned(),
            attempt: 1,
            attempts_since_queued: 1,
            queued_at_ms: 0,
        }
    }

    #[tokio::test]
    async fn an_attempt_is_stamped_by_the_clock_and_a_missing_plugin_is_permanent() {
        let clock = Clock::manual(1_700_000_000_000);
        let policy = RetryPolicy::from_config(RetryConfig::default());
        let (record, reached, _) = deliver(
            &job("gone"),
            &PluginSet::default(),
            &Value::Null,
            &policy,
            &Metrics::default(),
            &clock,
        )
        .await;
        assert_eq!(record.started_at_ms, 1_700_000_000_000);
        assert_eq!(record.finished_at_ms, 1_700_000_000_000);
        assert_eq!(record.outcome, AttemptOutcome::Failed);
        assert_eq!(reached, Reached::Yes);
        let error = record.error.unwrap_or_default();
        assert!(error.contains("`gone` is not configured"), "{error}");
    }
}
