//! Jobs queued for a plugin instance that a reload removed: they wait (not dead)
//! until the instance returns, or an operator deletes them (`herald purge --queued`).

use super::admin::delete_jobs;
use super::error::Result;
use super::job::JobSummary;
use super::rows::{JobSummaryRow, JOB_SUMMARY_SELECT};
use super::sql::{Run, Sql};
use super::Store;

impl Store {
    /// The pending jobs for plugin instance `plugin`, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn queued_for(&self, plugin: &str) -> Result<Vec<JobSummary>> {
        let sql = Sql::new(format!(
            "{JOB_SUMMARY_SELECT} WHERE j.plugin = $1 AND j.status = 'pending' ORDER BY j.id"
        ))
        .bind(plugin);
        let rows: Vec<JobSummaryRow> = self.read().await?.fetch_all(&sql).await?;
        Ok(rows.into_iter().map(JobSummary::from).collect())
    }

    /// Deletes the pending jobs for `plugin` (and their attempts) that no worker
    /// holds at `now_ms`; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_queued(&self, plugin: &str, now_ms: i64) -> Result<u64> {
        let result = async {
            let mut write = self.durable().await?;
            let mut tx = write.begin().await?;
            let dialect = tx.dialect();
            // Locked first, skipping those a replica is claiming right now: a job a
            // worker holds is never deleted under it.
            let queued: Vec<i64> = tx
                .scalars(
                    &Sql::new(format!(
                        "SELECT id FROM jobs WHERE plugin = $1 AND status = 'pending'
                         AND COALESCE(locked_until, 0) <= $2 ORDER BY id{}",
                        dialect.skip_locked()
                    ))
                    .bind(plugin)
                    .bind(now_ms),
                )
                .await?;
            let purged = delete_jobs(&mut tx, queued).await?;
            tx.commit().await?;
            Ok(purged)
        }
        .await;
        self.health.observe(&result);
        result
    }
}
