//! Leases that follow the worker on SQLite (see [`crate::store::leases`]).
//!
//! One herald process serves a SQLite file, so the one starting takes back every
//! lease at once: whoever held them is gone. Every write here is lossy: a lost
//! heartbeat or renewal is made again a moment later, and a lost take-back is
//! made again at the next start.

use super::{one_trip, SqliteStore};
use crate::store::error::{Result, StoreError};

/// Records this instance's heartbeat at `?2`.
const BEAT_SQL: &str = "INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?1, ?2, ?2)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at";

impl SqliteStore {
    /// This process's name on its leases.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Beats and renews (see [`crate::store::Store::heartbeat`]).
    pub async fn heartbeat(&self, now_ms: i64, lease_ms: i64, in_flight: &[i64]) -> Result<u64> {
        // The ids as one JSON array, so the statement's text is the same whatever
        // their number.
        let ids = serde_json::to_string(in_flight)
            .map_err(|e| StoreError::Corrupt(format!("jobs in flight: {e}")))?;
        let mut write = self.writer.lossy().await?;
        sqlx::query(BEAT_SQL)
            .bind(&*self.instance)
            .bind(now_ms)
            .execute(&mut *write)
            .await?;
        // A job taken back and claimed by another meanwhile is not this
        // instance's any more and is left alone.
        let renewed = sqlx::query(
            "UPDATE jobs SET locked_until = ?1
             WHERE id IN (SELECT value FROM json_each(?2))
               AND leased_by = ?3 AND status = 'pending'",
        )
        .bind(now_ms.saturating_add(lease_ms))
        .bind(ids)
        .bind(&*self.instance)
        .execute(&mut *write)
        .await?
        .rows_affected();
        Ok(renewed)
    }

    /// Takes back every lease but this instance's (see
    /// [`crate::store::Store::start_instance`]): no other process can hold one.
    pub async fn start_instance(&self, now_ms: i64, _lease_ms: i64) -> Result<u64> {
        let write = self.writer.lossy().await?;
        let mut query = one_trip::transaction();
        query.push("DELETE FROM instances WHERE id <> ");
        query.push_bind(&*self.instance);
        query.push(";\nINSERT INTO instances (id, started_at, heartbeat_at) VALUES (");
        query.push_bind(&*self.instance);
        query.push(", ");
        query.push_bind(now_ms);
        query.push(", ");
        query.push_bind(now_ms);
        query.push(") ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at;\n");
        // Walks the pending jobs once (no index on `leased_by`, see its migration).
        query.push(
            "UPDATE jobs SET locked_until = NULL, leased_by = NULL
             WHERE status = 'pending' AND locked_until IS NOT NULL
               AND (leased_by IS NULL OR leased_by <> ",
        );
        query.push_bind(&*self.instance);
        query.push(");\nSELECT changes() AS taken;");
        let rows = write.commit_one_trip(query).await?;
        let taken: i64 = match rows.first() {
            Some(row) => sqlx::Row::try_get(row, "taken")?,
            None => 0,
        };
        Ok(u64::try_from(taken).unwrap_or(0))
    }

    /// Takes back the leases of instances silent for a lease (see
    /// [`crate::store::Store::take_back_stale`]). Only a process that wrote the
    /// file before this one started could be one, and [`Self::start_instance`]
    /// took those back already; kept for the same contract as PostgreSQL's.
    pub async fn take_back_stale(&self, now_ms: i64, lease_ms: i64) -> Result<u64> {
        let cutoff = now_ms.saturating_sub(lease_ms);
        let stale: Vec<String> =
            sqlx::query_scalar("SELECT id FROM instances WHERE heartbeat_at < ?1 AND id <> ?2")
                .bind(cutoff)
                .bind(&*self.instance)
                .fetch_all(&self.pool)
                .await?;
        if stale.is_empty() {
            return Ok(0);
        }
        let write = self.writer.lossy().await?;
        let mut query = one_trip::transaction();
        // Re-checked under the write lock: one may have beaten since.
        query.push(
            "UPDATE jobs SET locked_until = NULL, leased_by = NULL
             WHERE status = 'pending' AND leased_by IN (
                 SELECT id FROM instances WHERE heartbeat_at < ",
        );
        query.push_bind(cutoff);
        query.push(" AND id <> ");
        query.push_bind(&*self.instance);
        query.push(");\nSELECT changes() AS taken;\nDELETE FROM instances WHERE heartbeat_at < ");
        query.push_bind(cutoff);
        query.push(" AND id <> ");
        query.push_bind(&*self.instance);
        query.push(";");
        let rows = write.commit_one_trip(query).await?;
        let taken: i64 = match rows.first() {
            Some(row) => sqlx::Row::try_get(row, "taken")?,
            None => 0,
        };
        Ok(u64::try_from(taken).unwrap_or(0))
    }

    /// Gives back this instance's leases and its heartbeat (see
    /// [`crate::store::Store::stop_instance`]).
    pub async fn stop_instance(&self) -> Result<u64> {
        let write = self.writer.lossy().await?;
        let mut query = one_trip::transaction();
        query.push("DELETE FROM instances WHERE id = ");
        query.push_bind(&*self.instance);
        query.push(
            ";\nUPDATE jobs SET locked_until = NULL, leased_by = NULL
             WHERE status = 'pending' AND leased_by = ",
        );
        query.push_bind(&*self.instance);
        query.push(";\nSELECT changes() AS released;");
        let rows = write.commit_one_trip(query).await?;
        let released: i64 = match rows.first() {
            Some(row) => sqlx::Row::try_get(row, "released")?,
            None => 0,
        };
        Ok(u64::try_from(released).unwrap_or(0))
    }
}
