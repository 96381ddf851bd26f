//! Jobs still queued for one plugin instance, on PostgreSQL: listed, or deleted for good.

use super::PostgresStore;
use crate::store::error::Result;
use crate::store::job::JobSummary;
use crate::store::rows::{JobSummaryRow, JOB_SUMMARY_SELECT};

impl PostgresStore {
    pub async fn queued_for(&self, plugin: &str) -> Result<Vec<JobSummary>> {
        let rows = sqlx::query_as::<_, JobSummaryRow>(&format!(
            "{JOB_SUMMARY_SELECT} WHERE j.plugin = $1 AND j.status = 'pending' ORDER BY j.id"
        ))
        .bind(plugin)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(JobSummary::from).collect())
    }

    pub async fn purge_queued(&self, plugin: &str, now_ms: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        // Locked first, skipping those a replica is claiming right now: a job a
        // worker holds is never deleted under it.
        let queued: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE plugin = $1 AND status = 'pending'
             AND COALESCE(locked_until, 0) <= $2 ORDER BY id FOR UPDATE SKIP LOCKED",
        )
        .bind(plugin)
        .bind(now_ms)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM attempts WHERE job_id = ANY($1)")
            .bind(&queued)
            .execute(&mut *tx)
            .await?;
        let purged = sqlx::query("DELETE FROM jobs WHERE id = ANY($1)")
            .bind(&queued)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(purged)
    }
}
