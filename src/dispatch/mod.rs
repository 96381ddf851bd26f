//! Deliver stage: workers claim due jobs, hand them to plugins, record attempts.
//!
//! Claiming is a short write that sets a lease; delivery happens outside any
//! transaction; the attempt is recorded afterwards. A worker that dies mid-delivery
//! leaves its jobs leased, and they are claimed again when the lease runs out.

mod backoff;
mod breaker;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

pub use self::backoff::RetryPolicy;
pub use self::breaker::{CircuitBreaker, Permit};
use self::worker::Reached;
use crate::config::DispatchSettings;
use crate::metrics::Metrics;
use crate::plugins::PluginSet;
use crate::rules::Rules;
use crate::store::{ClaimedJob, Store, StoreError};

/// How often a running dispatcher prunes delivered events past their retention.
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

/// What one step of the dispatcher found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// This many jobs were claimed (attempted, or put back by an open breaker).
    JobsAttempted(usize),
    /// Nothing was due.
    EmptyQueue,
}

/// Everything a delivery needs, shared by the worker tasks.
struct Shared {
    store: Store,
    plugins: PluginSet,
    rules: Arc<Rules>,
    shop: Value,
    settings: DispatchSettings,
    breakers: HashMap<String, CircuitBreaker>,
    /// Deliveries in flight per plugin instance, so one destination never gets
    /// more than its configured share however many jobs are due.
    limits: HashMap<String, Arc<Semaphore>>,
    metrics: Arc<Metrics>,
}

impl Shared {
    /// The policy for `job`: the rule's overrides, then the plugin instance's, then `[dispatch]`.
    fn policy(&self, job: &ClaimedJob) -> RetryPolicy {
        let config = self
            .rules
            .retry_for(&job.rule)
            .or(self.plugins.retry_for(&job.plugin))
            .or(self.settings.retry);
        RetryPolicy::from_config(config)
    }

    async fn run(&self, job: ClaimedJob) -> Result<(), StoreError> {
        let breaker = self.breakers.get(&job.plugin);
        if let Some(Permit::HeldUntil(until)) = breaker.map(|b| b.permit(Instant::now())) {
            let wait = until.saturating_duration_since(Instant::now());
            let run_at =
                now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
            self.metrics
                .incr("herald_deliveries_held_total", &[("plugin", &job.plugin)]);
            return self.store.defer(job.id, run_at).await;
        }
        let policy = self.policy(&job);
        // A closed semaphore cannot happen (none is ever closed); deliver unlimited if it did.
        let _permit = match self.limits.get(&job.plugin) {
            Some(limit) => limit.clone().acquire_owned().await.ok(),
            None => None,
        };
        let (record, reached) =
            worker::deliver(&job, &self.plugins, &self.shop, &policy, &self.metrics).await;
        if let Some(breaker) = breaker {
            match reached {
                Reached::Yes => breaker.record_success(),
                Reached::No => {
                    breaker.record_failure(Instant::now());
                    if breaker.is_open() {
                        warn!(plugin = %job.plugin, "circuit breaker open: holding this destination's jobs back");
                    }
                }
            }
        }
        self.store
            .record_attempt(job.id, job.attempt, &record)
            .await
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The job dispatcher: cheap to clone, one per process.
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
    wake: Arc<Notify>,
}

impl Dispatcher {
    /// A dispatcher over `store` delivering through `plugins`.
    pub fn new(
        store: Store,
        plugins: PluginSet,
        rules: Arc<Rules>,
        shop: Value,
        settings: DispatchSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        let breakers = plugins
            .names()
            .map(|name| {
                let breaker =
                    CircuitBreaker::new(settings.breaker_failures, settings.breaker_cooldown);
                (name.to_owned(), breaker)
            })
            .collect();
        let limits = plugins
            .names()
            .map(|name| {
                let limit = plugins.max_concurrency(name).max(1);
                (name.to_owned(), Arc::new(Semaphore::new(limit)))
            })
            .collect();
        Self {
            shared: Arc::new(Shared {
                store,
                plugins,
                rules,
                shop,
                settings,
                breakers,
                limits,
                metrics,
            }),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The handle the receiver pokes after storing jobs, so they go out at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The breaker of plugin instance `plugin`.
    pub fn breaker(&self, plugin: &str) -> Option<&CircuitBreaker> {
        self.shared.breakers.get(plugin)
    }

    /// Claims a batch of due jobs, delivers them concurrently and records every
    /// attempt before returning.
    ///
    /// # Errors
    /// When the store fails; jobs already claimed are then reclaimed after their lease.
    pub async fn run_once(&self) -> Result<ExecutionOutcome, StoreError> {
        let settings = &self.shared.settings;
        let lease = i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX);
        let jobs = self
            .shared
            .store
            .claim_due(now_ms(), lease, settings.concurrency)
            .await?;
        if jobs.is_empty() {
            return Ok(ExecutionOutcome::EmptyQueue);
        }
        let count = jobs.len();
        let mut tasks = JoinSet::new();
        for job in jobs {
            let shared = self.shared.clone();
            tasks.spawn(async move { shared.run(job).await });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    error!(error = %err, "could not record a delivery attempt; the job will be retried after its lease");
                    first_error.get_or_insert(err);
                }
                Err(err) => error!(error = %err, "a delivery task panicked"),
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(ExecutionOutcome::JobsAttempted(count)),
        }
    }

    /// Deletes delivered events past `dispatch.retention_days`, if set.
    async fn prune(&self) {
        let Some(retention) = self.shared.settings.retention else {
            return;
        };
        let cutoff =
            now_ms().saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        match self.shared.store.prune_delivered(cutoff).await {
            Ok(pruned) if pruned.events > 0 => info!(
                events = pruned.events,
                jobs = pruned.jobs,
                attempts = pruned.attempts,
                "pruned delivered events past retention"
            ),
            Ok(_) => {}
            Err(err) => warn!(error = %err, "pruning failed; will try again"),
        }
    }

    /// Runs until `stop` is cancelled, finishing the batch in flight before returning.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        let poll = self.shared.settings.poll_interval;
        let mut next_prune = Instant::now();
        loop {
            if stop.is_cancelled() {
                break;
            }
            if Instant::now() >= next_prune {
                self.prune().await;
                next_prune = Instant::now() + PRUNE_INTERVAL;
            }
            let idle = match self.run_once().await {
                Ok(ExecutionOutcome::JobsAttempted(_)) => continue,
                Ok(ExecutionOutcome::EmptyQueue) => poll,
                Err(err) => {
                    warn!(error = %err, "dispatcher step failed");
                    poll.max(Duration::from_secs(1))
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(idle) => {}
            }
        }
    }
}
