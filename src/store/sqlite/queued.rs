//! Jobs still queued for one plugin instance, on SQLite: listed, or deleted for good.

use super::SqliteStore;
use crate::store::error::Result;
use crate::store::job::JobSummary;
use crate::store::rows::{JobSummaryRow, JOB_SUMMARY_SELECT};

/// The queued jobs of instance `?1` that no worker holds at `?2`.
const QUEUED: &str = "SELECT id FROM jobs WHERE plugin = ?1 AND status = 'pending'
     AND COALESCE(locked_until, 0) <= ?2";

impl SqliteStore {
    pub async fn queued_for(&self, plugin: &str) -> Result<Vec<JobSummary>> {
        let rows = sqlx::query_as::<_, JobSummaryRow>(&format!(
            "{JOB_SUMMARY_SELECT} WHERE j.plugin = ? AND j.status = 'pending' ORDER BY j.id"
        ))
        .bind(plugin)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(JobSummary::from).collect())
    }

    pub async fn purge_queued(&self, plugin: &str, now_ms: i64) -> Result<u64> {
        let mut write = self.writer.durable().await?;
        let mut tx = write.begin().await?;
        sqlx::query(&format!("DELETE FROM attempts WHERE job_id IN ({QUEUED})"))
            .bind(plugin)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let purged = sqlx::query(&format!("DELETE FROM jobs WHERE id IN ({QUEUED})"))
            .bind(plugin)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(purged)
    }
}
