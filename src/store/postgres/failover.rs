//! Failover on PostgreSQL (see [`crate::store::Store::fail_over`]).

use super::PostgresStore;
use crate::store::attempt::AttemptRecord;
use crate::store::error::Result;
use crate::store::failover::Handover;

impl PostgresStore {
    pub async fn fail_over(
        &self,
        job_id: i64,
        attempt: u32,
        tried: Option<&AttemptRecord>,
        next: &Handover,
        now_ms: i64,
    ) -> Result<()> {
        // The bookkeeping pool, like attempt records: a hand-over lost with the
        // power leaves the job leased until its lease runs out, then it is tried again.
        let mut tx = self.bookkeeping.begin().await?;
        if let Some(record) = tried {
            let (outcome, _, _) = record.outcome.columns();
            sqlx::query(
                "INSERT INTO attempts (job_id, attempt, started_at, finished_at, outcome, error, plugin)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(job_id)
            .bind(i64::from(attempt))
            .bind(record.started_at_ms)
            .bind(record.finished_at_ms)
            .bind(outcome)
            .bind(&record.error)
            .bind(&record.plugin)
            .execute(&mut *tx)
            .await?;
        }
        // Without an attempt made, the claim's is given back, as a deferral does.
        let counted = if tried.is_some() {
            "attempts"
        } else {
            "GREATEST(attempts - 1, attempt_base)"
        };
        sqlx::query(&format!(
            "UPDATE jobs SET plugin = $1, params = $2, failovers = $3, attempts = {counted},
                             attempt_base = {counted}, queued_at = $4, run_at = $4,
                             updated_at = $4, locked_until = NULL, leased_by = NULL,
                             last_error = $5
             WHERE id = $6 AND status = 'pending' AND attempts = $7 AND leased_by = $8"
        ))
        .bind(&next.plugin)
        .bind(next.params_json())
        .bind(i64::from(next.failovers))
        .bind(now_ms)
        .bind(&next.reason)
        .bind(job_id)
        .bind(i64::from(attempt))
        .bind(&*self.instance)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
