//! Leases that follow the worker on PostgreSQL (see [`crate::store::leases`]).
//!
//! Several replicas share the jobs, so a replica only ever takes back the leases
//! of replicas whose heartbeat stopped. Every statement here that locks job rows
//! skips those another transaction holds (`FOR UPDATE SKIP LOCKED`), as the claim
//! does: a renewal or a take-back never waits on a claim or an attempt record,
//! and so never deadlocks with one.

use super::PostgresStore;
use crate::store::error::Result;

/// Records this instance's heartbeat at `$2` and extends to `$3` the leases it
/// holds on the jobs `$4`, one statement whatever their number. A job taken back
/// and claimed by another meanwhile is not this instance's any more and is left
/// alone.
const HEARTBEAT_SQL: &str = "WITH beat AS (
         INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, $2, $2)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at
     )
     UPDATE jobs SET locked_until = $3
     WHERE id IN (
         SELECT id FROM jobs
         WHERE id = ANY($4) AND leased_by = $1 AND status = 'pending'
         ORDER BY id
         FOR UPDATE SKIP LOCKED)";

impl PostgresStore {
    /// This process's name on its leases.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Beats and renews (see [`crate::store::Store::heartbeat`]).
    pub async fn heartbeat(&self, now_ms: i64, lease_ms: i64, in_flight: &[i64]) -> Result<u64> {
        Ok(sqlx::query(HEARTBEAT_SQL)
            .bind(&*self.instance)
            .bind(now_ms)
            .bind(now_ms.saturating_add(lease_ms))
            .bind(in_flight)
            .execute(&self.bookkeeping)
            .await?
            .rows_affected())
    }

    /// Takes back what a replica starting can (see
    /// [`crate::store::Store::start_instance`]): other replicas may be alive, so
    /// only the leases of those whose heartbeat stopped.
    pub async fn start_instance(&self, now_ms: i64, lease_ms: i64) -> Result<u64> {
        self.heartbeat(now_ms, lease_ms, &[]).await?;
        self.take_back_stale(now_ms, lease_ms).await
    }

    /// Takes back the leases of replicas silent for a lease (see
    /// [`crate::store::Store::take_back_stale`]).
    pub async fn take_back_stale(&self, now_ms: i64, lease_ms: i64) -> Result<u64> {
        let mut tx = self.bookkeeping.begin().await?;
        // Their rows go first, locked: of two replicas taking back together, the
        // one that deleted a row takes back its jobs, the other finds nothing.
        // A replica that was only slow writes its row again with its next beat.
        let stale: Vec<String> = sqlx::query_scalar(
            "DELETE FROM instances WHERE id IN (
                 SELECT id FROM instances WHERE heartbeat_at < $1 AND id <> $2
                 ORDER BY id FOR UPDATE SKIP LOCKED)
             RETURNING id",
        )
        .bind(now_ms.saturating_sub(lease_ms))
        .bind(&*self.instance)
        .fetch_all(&mut *tx)
        .await?;
        // Nearly always: no replica has died, and no job is read at all.
        if stale.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        // No index on `leased_by` (see its migration): this walks the pending
        // jobs, once per dead replica.
        let taken = sqlx::query(
            "UPDATE jobs SET locked_until = NULL, leased_by = NULL
             WHERE id IN (
                 SELECT id FROM jobs
                 WHERE status = 'pending' AND leased_by = ANY($1)
                 ORDER BY id
                 FOR UPDATE SKIP LOCKED)",
        )
        .bind(&stale)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(taken)
    }

    /// Gives back this instance's leases and its heartbeat (see
    /// [`crate::store::Store::stop_instance`]).
    pub async fn stop_instance(&self) -> Result<u64> {
        let released = sqlx::query(
            "WITH gone AS (DELETE FROM instances WHERE id = $1)
             UPDATE jobs SET locked_until = NULL, leased_by = NULL
             WHERE status = 'pending' AND leased_by = $1",
        )
        .bind(&*self.instance)
        .execute(&self.bookkeeping)
        .await?
        .rows_affected();
        Ok(released)
    }
}
