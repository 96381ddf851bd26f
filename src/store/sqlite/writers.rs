//! The grouped writes on SQLite: new events with their jobs, and delivery attempts.
//!
//! Each batch is one transaction on the writer connection, so one fsync, and a
//! handful of multi-row statements whatever its size. Statement count matters more
//! than rows here: every statement is a round trip between this task and sqlx's
//! SQLite thread, and under load each hop waits for a busy tokio worker. One
//! statement per row made a batch of 30 events take 6 ms; multi-row takes well under 1.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use super::checkpoint::Checkpointer;
use super::wal_sync::WalSync;

use crate::store::error::Result;
use crate::store::group_commit::BatchWriter;
use crate::store::new_event::{settle, NewEvent, NewJob};
use crate::store::{IngestOutcome, NewAttempt};

/// Rows per statement: SQLite binds at most 32,766 parameters per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// Commits new events and their jobs.
pub(super) struct IngestWriter {
    pub(super) writer: SqlitePool,
    /// An acknowledged event must survive a power loss: its caller waits for this.
    pub(super) wal: WalSync,
    pub(super) checkpoint: Checkpointer,
}

#[async_trait]
impl BatchWriter<NewEvent> for IngestWriter {
    type Output = IngestOutcome;

    async fn write_batch(&self, events: &[NewEvent]) -> Result<Vec<IngestOutcome>> {
        let mut conn = self.writer.acquire().await?;
        self.checkpoint.finish_on(&mut conn).await?;
        let mut tx = conn.begin().await?;
        let mut inserted = HashMap::with_capacity(events.len());
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (source, event_id, kind, created, livemode, object_id,
                                     order_id, normalized, payload, received_at) ",
            );
            query.push_values(chunk, |mut row, event| {
                row.push_bind(&event.source)
                    .push_bind(&event.event_id)
                    .push_bind(&event.kind)
                    .push_bind(event.created)
                    .push_bind(event.livemode)
                    .push_bind(&event.object_id)
                    .push_bind(&event.order_id)
                    .push_bind(&event.normalized)
                    .push_bind(&event.payload)
                    .push_bind(event.received_at);
            });
            // A duplicate (stored before, or earlier in this batch) inserts nothing.
            query.push(" ON CONFLICT (source, event_id) DO NOTHING RETURNING pk, source, event_id");
            for row in query.build().fetch_all(&mut *tx).await? {
                inserted.insert(
                    (row.try_get("source")?, row.try_get("event_id")?),
                    row.try_get("pk")?,
                );
            }
        }
        let (outcomes, jobs) = settle(events, inserted);
        insert_job_rows(&mut tx, &jobs).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn durable(&self) -> Result<()> {
        self.wal.sync().await
    }
}

/// Inserts jobs as `(event pk, event, job)`, queued at their event's arrival, in
/// the plan's order; a job whose idempotency key exists is skipped.
async fn insert_job_rows(
    conn: &mut SqliteConnection,
    jobs: &[(i64, &NewEvent, &NewJob)],
) -> Result<()> {
    for chunk in jobs.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                               run_at, queued_at, created_at, updated_at) ",
        );
        query.push_values(chunk, |mut row, (pk, event, job)| {
            row.push_bind(*pk)
                .push_bind(&job.rule)
                .push_bind(job.action_index)
                .push_bind(&job.plugin)
                .push_bind(&job.params)
                .push_bind(&job.idempotency_key)
                .push_bind(event.received_at)
                .push_bind(event.received_at)
                .push_bind(event.received_at)
                .push_bind(event.received_at);
        });
        query.push(" ON CONFLICT (idempotency_key) DO NOTHING");
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records delivery attempts and moves their jobs on.
pub(super) struct AttemptWriter {
    pub(super) writer: SqlitePool,
    pub(super) checkpoint: Checkpointer,
}

#[async_trait]
impl BatchWriter<NewAttempt> for AttemptWriter {
    type Output = ();

    async fn write_batch(&self, attempts: &[NewAttempt]) -> Result<Vec<()>> {
        // Not synced: a lost attempt record means the job is delivered again with
        // the same idempotency key, which at-least-once allows.
        let mut conn = self.writer.acquire().await?;
        self.checkpoint.finish_on(&mut conn).await?;
        write_attempts(&mut conn, attempts).await?;
        Ok(vec![(); attempts.len()])
    }
}

/// Inserts `attempts` and moves their jobs on, in one transaction.
async fn write_attempts(conn: &mut SqliteConnection, attempts: &[NewAttempt]) -> Result<()> {
    {
        let mut tx = conn.begin().await?;
        for chunk in attempts.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO attempts (job_id, attempt, started_at, finished_at, outcome, error) ",
            );
            insert.push_values(chunk, |mut row, attempt| {
                let (outcome, _, _) = attempt.record.outcome.columns();
                row.push_bind(attempt.job_id)
                    .push_bind(i64::from(attempt.attempt))
                    .push_bind(attempt.record.started_at_ms)
                    .push_bind(attempt.record.finished_at_ms)
                    .push_bind(outcome)
                    .push_bind(&attempt.record.error);
            });
            insert.build().execute(&mut *tx).await?;

            // VALUES names its columns column1, column2 …
            let mut update = QueryBuilder::<Sqlite>::new(
                "UPDATE jobs SET status = t.column2, run_at = COALESCE(t.column3, jobs.run_at),
                                 locked_until = NULL, last_error = t.column4,
                                 updated_at = t.column5,
                                 dead_at = CASE WHEN t.column2 = 'dead' THEN t.column5 END
                 FROM (",
            );
            update.push_values(chunk, |mut row, attempt| {
                let (_, status, run_at) = attempt.record.outcome.columns();
                row.push_bind(attempt.job_id)
                    .push_bind(status)
                    .push_bind(run_at)
                    .push_bind(&attempt.record.error)
                    .push_bind(attempt.record.finished_at_ms);
            });
            update.push(") AS t WHERE jobs.id = t.column1");
            update.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
