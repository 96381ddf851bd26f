//! The queue's depth, for the gauges at `/metrics`.

use super::SqliteStore;
use crate::store::error::Result;
use crate::store::stats::{merge, PendingRow, QueueDepth};

/// Pending jobs by plugin instance and state at `?1`, as a claim sees them
/// (`CLAIM_SQL`). `INDEXED BY`: the partial index holds only pending jobs, where
/// a table scan would read every delivered job too.
const PENDING_SQL: &str = "SELECT plugin,
        SUM(CASE WHEN locked_until > ?1 THEN 1 ELSE 0 END) AS leased,
        SUM(CASE WHEN (locked_until IS NULL OR locked_until <= ?1) AND run_at <= ?1
                 THEN 1 ELSE 0 END) AS due,
        SUM(CASE WHEN (locked_until IS NULL OR locked_until <= ?1) AND run_at > ?1
                 THEN 1 ELSE 0 END) AS retrying,
        MIN(CASE WHEN (locked_until IS NULL OR locked_until <= ?1) AND run_at <= ?1
                 THEN run_at END) AS oldest_due
     FROM jobs INDEXED BY jobs_due WHERE status = 'pending' GROUP BY plugin";

/// Dead letters by plugin instance, from their partial index.
const DEAD_SQL: &str = "SELECT plugin, COUNT(*) FROM jobs INDEXED BY jobs_dead
     WHERE status = 'dead' GROUP BY plugin";

impl SqliteStore {
    /// See [`crate::store::Store::queue_depth`]. Reads only: the writer is left alone.
    pub async fn queue_depth(&self, now_ms: i64) -> Result<Vec<QueueDepth>> {
        let pending = sqlx::query_as::<_, PendingRow>(PENDING_SQL)
            .bind(now_ms)
            .fetch_all(&self.pool)
            .await?;
        let dead = sqlx::query_as::<_, (String, i64)>(DEAD_SQL)
            .fetch_all(&self.pool)
            .await?;
        Ok(merge(pending, dead))
    }
}
