//! The queue's depth, for the gauges at `/metrics`.

use super::PostgresStore;
use crate::store::error::Result;
use crate::store::stats::{merge, PendingRow, QueueDepth};

/// Pending jobs by plugin instance and state at `$1`, as a claim sees them. The
/// `status = 'pending'` filter lets the planner walk the partial `jobs_due` index.
const PENDING_SQL: &str = "SELECT plugin,
        COUNT(*) FILTER (WHERE locked_until > $1) AS leased,
        COUNT(*) FILTER (WHERE (locked_until IS NULL OR locked_until <= $1) AND run_at <= $1) AS due,
        COUNT(*) FILTER (WHERE (locked_until IS NULL OR locked_until <= $1) AND run_at > $1) AS retrying,
        MIN(run_at) FILTER (WHERE (locked_until IS NULL OR locked_until <= $1) AND run_at <= $1)
            AS oldest_due
     FROM jobs WHERE status = 'pending' GROUP BY plugin";

/// Dead letters by plugin instance, from their partial index.
const DEAD_SQL: &str = "SELECT plugin, COUNT(*) FROM jobs WHERE status = 'dead' GROUP BY plugin";

impl PostgresStore {
    /// See [`crate::store::Store::queue_depth`].
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
