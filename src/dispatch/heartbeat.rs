//! The heartbeat that keeps the leases of the jobs this dispatcher holds (`in_flight`).
//!
//! A claimed job is held from its claim until its attempt is recorded (or it is
//! put back). While the dispatcher runs, a task beats the instance's heartbeat
//! every third of a lease and renews the leases of every job held, in one write,
//! so a lease only runs out when this process stops beating; on PostgreSQL the
//! same task takes back the jobs of replicas that stopped.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::shared::Shared;

/// How often the heartbeat beats for `lease`: three times a lease, so two beats
/// in a row can be late or fail before a lease runs out.
pub(super) fn interval(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(10))
}

/// A lease in the store's unit.
pub(super) fn millis(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

impl Shared {
    /// Starts serving as this instance: the heartbeat, and the leases of dead
    /// predecessors taken back (all of them on SQLite).
    pub(super) async fn start_instance(&self) {
        let lease = millis(self.settings.lease);
        match self.store.start_instance(self.clock.now_ms(), lease).await {
            Ok(0) => {}
            Ok(taken) => {
                info!(
                    jobs = taken,
                    "took back the jobs a stopped herald was delivering"
                );
                self.count_taken_back(taken);
            }
            Err(err) => {
                warn!(error = %err, "could not take back the leases of stopped workers; they run out by themselves");
            }
        }
    }

    /// Beats the heartbeat until `stop`: renews the leases of the jobs held and
    /// takes back those of silent replicas. Stops between beats, never halfway
    /// through a write.
    pub(super) async fn beat_until(self: Arc<Self>, stop: CancellationToken) {
        let lease = millis(self.settings.lease);
        let mut ticks = tokio::time::interval(interval(self.settings.lease));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The first tick is immediate; `start_instance` has just beaten.
        ticks.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let held = self.in_flight.ids();
            let now = self.clock.now_ms();
            if let Err(err) = self.store.heartbeat(now, lease, &held).await {
                warn!(error = %err, jobs = held.len(), "heartbeat failed: the leases of the jobs in flight were not renewed");
                continue;
            }
            match self.store.take_back_stale(now, lease).await {
                Ok(0) => {}
                Ok(taken) => {
                    info!(
                        jobs = taken,
                        "took back the jobs of a worker whose heartbeat stopped"
                    );
                    self.count_taken_back(taken);
                }
                Err(err) => {
                    warn!(error = %err, "could not take back the leases of stopped workers");
                }
            }
        }
    }

    /// Stops serving as this instance after a clean drain: gives back the leases
    /// still held (attempts that could not be recorded) and the heartbeat.
    pub(super) async fn stop_instance(&self) {
        match self.store.stop_instance().await {
            Ok(0) => {}
            Ok(released) => info!(
                jobs = released,
                "gave back the leases of jobs whose attempt was not recorded"
            ),
            Err(err) => {
                warn!(error = %err, "could not give back this worker's leases; they run out by themselves");
            }
        }
    }

    fn count_taken_back(&self, jobs: u64) {
        self.metrics.leases_taken_back(jobs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heartbeat_beats_three_times_a_lease() {
        assert_eq!(interval(Duration::from_secs(15)), Duration::from_secs(5));
        assert_eq!(
            interval(Duration::from_millis(1)),
            Duration::from_millis(10)
        );
    }
}
