//! Failover on SQLite (see [`crate::store::Store::fail_over`]).

use super::{one_trip, SqliteStore};
use crate::store::attempt::AttemptRecord;
use crate::store::error::Result;
use crate::store::failover::Handover;

impl SqliteStore {
    pub async fn fail_over(
        &self,
        job_id: i64,
        attempt: u32,
        tried: Option<&AttemptRecord>,
        next: &Handover,
        now_ms: i64,
    ) -> Result<()> {
        let params = next.params_json();
        // Lossy, like an attempt record: a hand-over lost with the power leaves the
        // job leased, and it is taken back and tried again when herald starts.
        let write = self.writer.lossy().await?;
        let mut query = one_trip::transaction();
        if let Some(record) = tried {
            let (outcome, _, _) = record.outcome.columns();
            query.push(
                "INSERT INTO attempts (job_id, attempt, started_at, finished_at, outcome, error, plugin) ",
            );
            query.push_values([record], |mut row, record| {
                row.push_bind(job_id)
                    .push_bind(i64::from(attempt))
                    .push_bind(record.started_at_ms)
                    .push_bind(record.finished_at_ms)
                    .push_bind(outcome)
                    .push_bind(&record.error)
                    .push_bind(&record.plugin);
            });
            query.push(";\n");
        }
        // Without an attempt made, the claim's is given back, as a deferral does.
        let counted = if tried.is_some() {
            "attempts"
        } else {
            "MAX(attempts - 1, attempt_base)"
        };
        query.push("UPDATE jobs SET plugin = ");
        query.push_bind(&next.plugin);
        query.push(", params = ");
        query.push_bind(params);
        query.push(", failovers = ");
        query.push_bind(i64::from(next.failovers));
        query.push(format_args!(
            ", attempts = {counted}, attempt_base = {counted}, queued_at = "
        ));
        query.push_bind(now_ms);
        query.push(", run_at = ");
        query.push_bind(now_ms);
        query.push(", updated_at = ");
        query.push_bind(now_ms);
        query.push(", locked_until = NULL, leased_by = NULL, last_error = ");
        query.push_bind(&next.reason);
        query.push(" WHERE id = ");
        query.push_bind(job_id);
        query.push(" AND status = 'pending' AND attempts = ");
        query.push_bind(i64::from(attempt));
        query.push(" AND leased_by = ");
        query.push_bind(&*self.instance);
        query.push(";");
        write.commit_one_trip(query).await?;
        Ok(())
    }
}
