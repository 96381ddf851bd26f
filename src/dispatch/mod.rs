//! Deliver stage: workers claim due jobs, hand them to plugins, record attempts.
//!
//! Claiming is a short write that sets a lease; delivery happens outside any
//! transaction; the attempt is recorded afterwards. A worker that dies mid-delivery
//! leaves its jobs leased, and they are claimed again when the lease runs out.

mod backoff;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

pub use self::backoff::RetryPolicy;
use crate::config::DispatchSettings;
use crate::metrics::Metrics;
use crate::plugins::PluginSet;
use crate::store::{Store, StoreError};

/// What one step of the dispatcher found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// This many jobs were attempted.
    JobsAttempted(usize),
    /// Nothing was due.
    EmptyQueue,
}

/// Everything a delivery needs, shared by the worker tasks.
struct Shared {
    store: Store,
    plugins: PluginSet,
    shop: Value,
    policy: RetryPolicy,
    metrics: Arc<Metrics>,
}

/// The job dispatcher: cheap to clone, one per process.
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
    settings: DispatchSettings,
    wake: Arc<Notify>,
}

impl Dispatcher {
    /// A dispatcher over `store` delivering through `plugins`.
    pub fn new(
        store: Store,
        plugins: PluginSet,
        shop: Value,
        settings: DispatchSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        let policy = RetryPolicy {
            max_attempts: settings.max_attempts,
            base: settings.backoff_base,
            max: settings.backoff_max,
        };
        Self {
            shared: Arc::new(Shared {
                store,
                plugins,
                shop,
                policy,
                metrics,
            }),
            settings,
            wake: Arc::new(Notify::new()),
        }
    }

    /// The handle the receiver pokes after storing jobs, so they go out at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Claims a batch of due jobs, delivers them concurrently and records every
    /// attempt before returning.
    ///
    /// # Errors
    /// When the store fails; jobs already claimed are then reclaimed after their lease.
    pub async fn run_once(&self) -> Result<ExecutionOutcome, StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        let lease = i64::try_from(self.settings.lease.as_millis()).unwrap_or(i64::MAX);
        let jobs = self
            .shared
            .store
            .claim_due(now, lease, self.settings.concurrency)
            .await?;
        if jobs.is_empty() {
            return Ok(ExecutionOutcome::EmptyQueue);
        }
        let count = jobs.len();
        let mut tasks = JoinSet::new();
        for job in jobs {
            let shared = self.shared.clone();
            tasks.spawn(async move {
                let record = worker::deliver(
                    &job,
                    &shared.plugins,
                    &shared.shop,
                    &shared.policy,
                    &shared.metrics,
                )
                .await;
                shared
                    .store
                    .record_attempt(job.id, job.attempt, &record)
                    .await
            });
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

    /// Runs until `stop` is cancelled, finishing the batch in flight before returning.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        loop {
            if stop.is_cancelled() {
                break;
            }
            let idle = match self.run_once().await {
                Ok(ExecutionOutcome::JobsAttempted(_)) => continue,
                Ok(ExecutionOutcome::EmptyQueue) => self.settings.poll_interval,
                Err(err) => {
                    warn!(error = %err, "dispatcher step failed");
                    self.settings.poll_interval.max(Duration::from_secs(1))
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
