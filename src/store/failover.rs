//! Handing a claimed job over to the next of its action's fallbacks.
//!
//! The job keeps its id, event and idempotency key (a downstream that saw an
//! earlier try can drop a duplicate); it takes the fallback's instance and
//! parameters, a fresh retry budget, and is due at once.

use serde_json::{Map, Value};

use super::attempt::AttemptRecord;
use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

/// Who takes a job next.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    /// The fallback's plugin instance.
    pub plugin: String,
    /// The fallback's parameters.
    pub params: Map<String, Value>,
    /// The job's failover count once handed over: `n` for fallback `n` (1-based).
    pub failovers: u32,
    /// Why the instance it leaves gave up, kept as the job's last error.
    pub reason: String,
}

impl Handover {
    /// The parameters as the `params` column stores them.
    fn params_json(&self) -> String {
        Value::Object(self.params.clone()).to_string()
    }
}

impl Store {
    /// Hands claimed job `job_id` (under its attempt `attempt`) over to `next`, due
    /// at `now_ms`, if this instance's claim still holds it. `tried` is the
    /// attempt after which its instance gave up, recorded with the hand-over;
    /// `None` when none was made (its breaker stayed open), and the claim's
    /// attempt is then not counted.
    ///
    /// # Errors
    /// On a database error; the job then stays where it was, and its lease runs out.
    pub async fn fail_over(
        &self,
        job_id: i64,
        attempt: u32,
        tried: Option<&AttemptRecord>,
        next: &Handover,
        now_ms: i64,
    ) -> Result<()> {
        let result = async {
            // Lossy, like an attempt record: a hand-over lost with the power leaves
            // the job leased, and it is taken back and tried again.
            let mut write = self.lossy().await?;
            let mut tx = write.begin().await?;
            if let Some(record) = tried {
                let (outcome, _, _) = record.outcome.columns();
                let insert = Sql::new(
                    "INSERT INTO attempts (job_id, attempt, started_at, finished_at, outcome, error, plugin)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(job_id)
                .bind(attempt)
                .bind(record.started_at_ms)
                .bind(record.finished_at_ms)
                .bind(outcome)
                .bind(&record.error)
                .bind(&record.plugin);
                tx.execute(&insert).await?;
            }
            // Without an attempt made, the claim's is given back, as a deferral does.
            let counted = if tried.is_some() {
                "attempts".to_owned()
            } else {
                tx.dialect().greatest("attempts - 1", "attempt_base")
            };
            let update = Sql::new(format!(
                "UPDATE jobs SET plugin = $1, params = $2, failovers = $3, attempts = {counted},
                                 attempt_base = {counted}, queued_at = $4, run_at = $4,
                                 updated_at = $4, locked_until = NULL, leased_by = NULL,
                                 last_error = $5
                 WHERE id = $6 AND status = 'pending' AND attempts = $7 AND leased_by = $8"
            ))
            .bind(&next.plugin)
            .bind(next.params_json())
            .bind(next.failovers)
            .bind(now_ms)
            .bind(&next.reason)
            .bind(job_id)
            .bind(attempt)
            .bind(&*self.instance);
            tx.execute(&update).await?;
            tx.commit().await
        }
        .await;
        self.health.observe(&result);
        result
    }
}
