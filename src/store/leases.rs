//! Leases that follow the worker, not the clock.
//!
//! Every store names itself with an instance id, and a claim writes that name on
//! the job (`leased_by`). A serving process beats a heartbeat row
//! ([`Store::heartbeat`]) and, in the same write, extends the leases of the jobs
//! it still holds, so a lease can be short without cutting off a slow delivery:
//! it only runs out when its holder stops beating. A process that starts takes
//! back what its dead predecessors held ([`Store::start_instance`]); replicas take
//! back each other's once a heartbeat has been silent for a lease
//! ([`Store::take_back_stale`]).
//!
//! A holder whose job was taken back may still finish its delivery. Its record is
//! then kept as history, but it moves the job on only if its claim still holds it
//! (same attempt number, same holder), so a stale completion cannot mark a job
//! delivered, or queue it again, under the worker now delivering it.

use std::sync::Arc;

use super::error::Result;
use super::sql::{Arg, Dialect, Run, Sql};
use super::Store;

/// A new instance id: the process id, for the operator reading `instances`, and
/// 64 random bits, so two processes (or two stores in one) never share one.
pub(super) fn new_instance_id() -> Arc<str> {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>()).into()
}

/// Records instance `$1`'s heartbeat at `$2`.
const BEAT_SQL: &str = "INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, $2, $2)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at";

// Every write here is lossy: a lost heartbeat or renewal is made again a moment
// later, and a lost take-back at the next start or the next tick. Every statement
// that locks job rows on PostgreSQL skips those another transaction holds, as the
// claim does: a renewal or a take-back never waits on a claim or an attempt
// record, and so never deadlocks with one.
impl Store {
    /// The name this store writes on the leases it takes.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Starts serving as this instance at `now_ms`: writes its heartbeat and takes
    /// back the leases no live process holds. On SQLite that is every lease, at
    /// once: one herald process serves a SQLite file, so whoever held them is
    /// gone. On PostgreSQL, those of replicas silent for `lease_ms`. Returns how
    /// many jobs were taken back.
    ///
    /// # Errors
    /// On a database error.
    pub async fn start_instance(&self, now_ms: i64, lease_ms: i64) -> Result<u64> {
        if self.dialect() == Dialect::Postgres {
            self.heartbeat(now_ms, lease_ms, &[]).await?;
            return self.take_back_stale(now_ms, lease_ms).await;
        }
        let mut write = self.lossy().await?;
        let mut tx = write.begin().await?;
        let others = Sql::new("DELETE FROM instances WHERE id <> $1").bind(&*self.instance);
        tx.execute(&others).await?;
        let beat = Sql::new(BEAT_SQL).bind(&*self.instance).bind(now_ms);
        tx.execute(&beat).await?;
        // Walks the pending jobs once (no index on `leased_by`, see its migration).
        let take_back = Sql::new(
            "UPDATE jobs SET locked_until = NULL, leased_by = NULL
             WHERE status = 'pending' AND locked_until IS NOT NULL
               AND (leased_by IS NULL OR leased_by <> $1)",
        )
        .bind(&*self.instance);
        let taken = tx.execute(&take_back).await?;
        tx.commit().await?;
        Ok(taken)
    }

    /// Beats this instance's heartbeat at `now_ms` and extends the leases it holds
    /// on the jobs `in_flight` to `lease_ms` from now, in one transaction. Jobs
    /// taken back meanwhile are left to their new holder. Returns how many were
    /// renewed.
    ///
    /// # Errors
    /// On a database error.
    pub async fn heartbeat(&self, now_ms: i64, lease_ms: i64, in_flight: &[i64]) -> Result<u64> {
        let mut write = self.lossy().await?;
        let mut tx = write.begin().await?;
        let dialect = tx.dialect();
        let beat = Sql::new(BEAT_SQL).bind(&*self.instance).bind(now_ms);
        tx.execute(&beat).await?;
        let renewed = if in_flight.is_empty() {
            0
        } else {
            let renew = Sql::new(format!(
                "UPDATE jobs SET locked_until = $1
                 WHERE id IN (
                     SELECT id FROM jobs
                     WHERE id {} AND leased_by = $3 AND status = 'pending'
                     ORDER BY id{})",
                dialect.any(2),
                dialect.skip_locked()
            ))
            .bind(now_ms.saturating_add(lease_ms))
            .bind(in_flight)
            .bind(&*self.instance);
            tx.execute(&renew).await?
        };
        tx.commit().await?;
        Ok(renewed)
    }

    /// Takes back the leases of instances whose heartbeat is older than
    /// `lease_ms` at `now_ms`, and forgets those instances. Returns how many jobs
    /// were taken back. On SQLite only a process that wrote the file before this
    /// one started could be one, and [`Store::start_instance`] took those back
    /// already.
    ///
    /// # Errors
    /// On a database error.
    pub async fn take_back_stale(&self, now_ms: i64, lease_ms: i64) -> Result<u64> {
        let cutoff = now_ms.saturating_sub(lease_ms);
        let silent = Sql::new("SELECT id FROM instances WHERE heartbeat_at < $1 AND id <> $2")
            .bind(cutoff)
            .bind(&*self.instance);
        // Nearly always: no instance has died, and nothing is written at all.
        if self
            .read()
            .await?
            .scalars::<String>(&silent)
            .await?
            .is_empty()
        {
            return Ok(0);
        }
        let mut write = self.lossy().await?;
        let mut tx = write.begin().await?;
        let dialect = tx.dialect();
        // Their rows go first, locked and checked again: of two replicas taking
        // back together, the one that deleted a row takes back its jobs, the other
        // finds nothing. A replica that was only slow writes its row again with
        // its next beat.
        let forget = Sql::new(format!(
            "DELETE FROM instances WHERE id IN (
                 SELECT id FROM instances WHERE heartbeat_at < $1 AND id <> $2
                 ORDER BY id{})
             RETURNING id",
            dialect.skip_locked()
        ))
        .bind(cutoff)
        .bind(&*self.instance);
        let stale: Vec<String> = tx.scalars(&forget).await?;
        if stale.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        // No index on `leased_by` (see its migration): this walks the pending jobs.
        let take_back = Sql::new(format!(
            "UPDATE jobs SET locked_until = NULL, leased_by = NULL
             WHERE id IN (
                 SELECT id FROM jobs WHERE status = 'pending' AND leased_by {}
                 ORDER BY id{})",
            dialect.any(1),
            dialect.skip_locked()
        ))
        .bind(Arg::Texts(stale));
        let taken = tx.execute(&take_back).await?;
        tx.commit().await?;
        Ok(taken)
    }

    /// Stops serving as this instance: gives back every lease it still holds
    /// (jobs whose attempt could not be recorded) and deletes its heartbeat.
    /// Returns how many leases were given back.
    ///
    /// # Errors
    /// On a database error.
    pub async fn stop_instance(&self) -> Result<u64> {
        let mut write = self.lossy().await?;
        let mut tx = write.begin().await?;
        let gone = Sql::new("DELETE FROM instances WHERE id = $1").bind(&*self.instance);
        tx.execute(&gone).await?;
        let release = Sql::new(
            "UPDATE jobs SET locked_until = NULL, leased_by = NULL
             WHERE status = 'pending' AND leased_by = $1",
        )
        .bind(&*self.instance);
        let released = tx.execute(&release).await?;
        tx.commit().await?;
        Ok(released)
    }
}
