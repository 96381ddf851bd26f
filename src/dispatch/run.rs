//! The dispatcher's loops: one step at a time for tests, and the running loop
//! that claims ahead, delivers, records and prunes until stopped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::claimed::{Admitted, ClaimedPerDestination};
use super::heartbeat;
use super::job::Gate;
use super::shared::Attempted;
use super::{Dispatcher, ExecutionOutcome, CLAIMED_PER_SLOT};
use crate::store::StoreError;

/// How often a running dispatcher prunes delivered events past their retention.
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

impl Dispatcher {
    /// Claims a batch of due jobs, delivers them concurrently and records every
    /// attempt before returning.
    ///
    /// # Errors
    /// When the store fails; jobs already claimed are then taken back after
    /// their lease (this step beats no heartbeat).
    pub async fn run_once(&self) -> Result<ExecutionOutcome, StoreError> {
        let settings = &self.shared.settings;
        let lease = heartbeat::millis(settings.lease);
        let jobs = self
            .shared
            .store
            .claim_due(self.shared.clock.now_ms(), lease, settings.concurrency, &[])
            .await?;
        if jobs.is_empty() {
            return Ok(ExecutionOutcome::EmptyQueue);
        }
        let count = jobs.len();
        let mut tasks = JoinSet::new();
        for job in jobs {
            let shared = self.shared.clone();
            let held = shared.in_flight.hold(job.id);
            tasks.spawn(async move {
                let _held = held;
                shared.run(job, None).await
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

    /// Deletes delivered events past `dispatch.retention_days`, if set.
    async fn prune(&self) {
        let Some(retention) = self.shared.settings.retention else {
            return;
        };
        let cutoff = self
            .shared
            .clock
            .now_ms()
            .saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
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

    /// Runs until `stop` is cancelled, finishing the deliveries in flight before
    /// returning; claimed jobs that had not started go back to the queue.
    ///
    /// Serves as this store's instance: takes back the leases of dead workers
    /// first, beats the heartbeat that renews the leases of the jobs held until
    /// the last delivery is recorded, and then gives back its leases and its
    /// heartbeat. A drain cut short (the process ends first) gives back nothing:
    /// those jobs are taken back when their lease runs out or herald restarts.
    ///
    /// Claims ahead: up to [`CLAIMED_PER_SLOT`] jobs per delivery slot are claimed
    /// and not yet recorded at once, so a free slot finds its next job waiting
    /// instead of waiting for a claim, and a slot is given back as soon as its
    /// delivery ends, before the attempt is recorded. Both are writes queued
    /// behind the ingest's on SQLite's one writer, and under load each can take
    /// longer than the delivery itself: slots that waited for both would spend
    /// most of their time idle.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        let settings = &self.shared.settings;
        let poll = settings.poll_interval;
        let lease = heartbeat::millis(settings.lease);
        self.shared.start_instance().await;
        // Cancelled once the last delivery is recorded, or if this future is dropped.
        let beating = CancellationToken::new();
        let beat = tokio::spawn(self.shared.clone().beat_until(beating.clone()));
        let beating = beating.drop_guard();
        let concurrency = settings.concurrency.max(1);
        let gate = Arc::new(Gate {
            slots: Semaphore::new(concurrency),
            stop: stop.clone(),
        });
        let max_claimed = concurrency.saturating_mul(CLAIMED_PER_SLOT);
        let claimed = ClaimedPerDestination::new(&self.shared);
        // With a backlog, claim again once this much room is free rather than
        // after every delivery: a claim is a write, and one per job would make
        // the claims, not the deliveries, the limit.
        let refill = (max_claimed / 4).max(1);
        let mut tasks = JoinSet::new();
        let mut next_prune = Instant::now();
        // Whether the last claim took all it asked for, so more may be due.
        let mut backlog = false;
        let mut idle = poll;
        loop {
            if stop.is_cancelled() {
                break;
            }
            if Instant::now() >= next_prune {
                self.prune().await;
                next_prune = Instant::now() + PRUNE_INTERVAL;
            }
            while let Some(done) = tasks.try_join_next() {
                report(done);
            }
            let room = max_claimed.saturating_sub(tasks.len());
            if room > 0 {
                let skip = claimed.full();
                match self
                    .shared
                    .store
                    .claim_due(self.shared.clock.now_ms(), lease, room, &skip)
                    .await
                {
                    Ok(jobs) => {
                        // A full destination may have more due: claim again as
                        // its jobs finish.
                        backlog = jobs.len() == room || !skip.is_empty();
                        idle = poll;
                        for job in jobs {
                            let shared = self.shared.clone();
                            let gate = gate.clone();
                            let held = shared.in_flight.hold(job.id);
                            match claimed.admit(&job.plugin) {
                                Admitted::Yes(counted) => tasks.spawn(async move {
                                    let _held = (held, counted);
                                    shared.run(job, Some(&gate)).await
                                }),
                                // Claimed before its destination was full (the
                                // claim skips it from now on): back to the queue.
                                Admitted::Full => tasks.spawn(async move {
                                    let _held = held;
                                    let run_at = shared.clock.now_ms();
                                    let back = Attempted::PutBack { run_at };
                                    shared.record(&job, back).await
                                }),
                            };
                        }
                    }
                    Err(err) => {
                        warn!(error = %err, "claiming jobs failed");
                        backlog = false;
                        idle = poll.max(Duration::from_secs(1));
                    }
                }
            }
            // With a backlog, go on as soon as there is room for a claim;
            // otherwise wait to be woken by new jobs, for the poll interval, or
            // for the stop.
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = self.wake.notified() => break,
                    () = tokio::time::sleep(idle) => break,
                    Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                        report(done);
                        if backlog && max_claimed.saturating_sub(tasks.len()) >= refill {
                            break;
                        }
                    }
                }
            }
        }
        while let Some(done) = tasks.join_next().await {
            report(done);
        }
        drop(beating);
        if let Err(err) = beat.await {
            error!(error = %err, "the heartbeat task panicked");
        }
        self.shared.stop_instance().await;
    }
}

/// Logs how a delivery task ended, if badly.
fn report(done: Result<Result<(), StoreError>, tokio::task::JoinError>) {
    match done {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            error!(error = %err, "could not record a delivery attempt; the job will be retried after its lease");
        }
        Err(err) => error!(error = %err, "a delivery task panicked"),
    }
}
