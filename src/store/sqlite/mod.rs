//! The SQLite backend: one file, WAL journal; commits that promise durability wait for
//! the WAL's fsync (`wal_sync`), and checkpoints run beside the writer (`checkpoint`).

use std::str::FromStr;
use std::time::Duration;

use herald_plugin_api::{Event, Payload};
use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row, SqliteConnection, SqlitePool};

mod admin;
mod checkpoint;
mod inventory;
mod one_trip;
mod orders;
mod wal_sync;
mod writers;

use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};

use self::checkpoint::Checkpointer;
use self::wal_sync::WalSync;
use self::writers::{AttemptWriter, IngestWriter};
use super::error::{Result, StoreError};
use super::group_commit::GroupCommit;
use super::new_event::{NewEvent, NewJob};
use super::shared_events::SharedEvents;
use super::{
    AttemptRecord, AttemptSummary, ClaimedJob, IngestOutcome, JobSummary, NewAttempt,
    ATTEMPTS_LINGER, GROUP_COMMIT_MAX, INGEST_LINGER,
};

/// The columns [`job_summary`] reads, joined with their event.
const JOB_SUMMARY_SELECT: &str =
    "SELECT j.id, e.event_id, e.kind, j.rule, j.plugin, j.idempotency_key, j.status, j.attempts,
            j.last_error, j.dead_at
     FROM jobs j JOIN events e ON e.pk = j.event_pk";

fn job_summary(row: &SqliteRow) -> Result<JobSummary> {
    let attempts: i64 = row.try_get("attempts")?;
    Ok(JobSummary {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("kind")?,
        rule: row.try_get("rule")?,
        plugin: row.try_get("plugin")?,
        idempotency_key: row.try_get("idempotency_key")?,
        status: row.try_get("status")?,
        attempts: to_u32(attempts),
        last_error: row.try_get("last_error")?,
        dead_at_ms: row.try_get("dead_at")?,
    })
}

/// Counts read back from the database are never negative nor beyond `u32`; clamp
/// rather than fail if a hand-edited row says otherwise.
fn to_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// Inserts `jobs` for event `event_pk`; a job whose idempotency key exists is skipped.
/// Returns how many were inserted.
async fn insert_jobs(
    tx: &mut Transaction<'_, Sqlite>,
    event_pk: i64,
    jobs: &[NewJob],
    now: i64,
) -> Result<u64> {
    let mut inserted = 0;
    for job in jobs {
        inserted += sqlx::query(
            "INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                               run_at, queued_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7, ?7)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(event_pk)
        .bind(&job.rule)
        .bind(job.action_index)
        .bind(&job.plugin)
        .bind(&job.params)
        .bind(&job.idempotency_key)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

/// How long a writer waits for another's lock before giving up; SQLite allows one
/// writer at a time, and commits take milliseconds, so this only bites when stuck.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reading connections: readers run in parallel under WAL.
const MAX_READERS: u32 = 8;

/// The SQLite store.
///
/// Every write in this process goes through one connection, `writer`. SQLite lets
/// one writer in at a time anyway; with several connections the others wait in
/// SQLite's busy handler, which sleeps (1 ms, 2 ms, 5 ms …) instead of queueing,
/// and that cost ten times the throughput. Waiting for the one connection is an
/// async queue instead. The busy timeout still covers other processes (the CLI).
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
    ingest: GroupCommit<NewEvent, IngestOutcome>,
    attempts: GroupCommit<NewAttempt, ()>,
    /// Durability for the writer's commits, which return before their fsync.
    wal: WalSync,
    /// Checkpoints the WAL beside the writer.
    checkpoint: Checkpointer,
}

/// An event from a row's `normalized` and `payload` columns.
fn event_from_row(row: &SqliteRow, pk: i64) -> Result<Event> {
    let normalized: &str = row.try_get("normalized")?;
    let payload: &str = row.try_get("payload")?;
    let mut event: Event = serde_json::from_str(normalized)
        .map_err(|e| StoreError::Corrupt(format!("event {pk}: {e}")))?;
    // Checked to be JSON on receipt; parsed only if a plugin reads it as a tree.
    event.raw = Payload::from_text(payload.to_owned());
    Ok(event)
}

/// Leases up to `?3` due jobs for a lease ending at `?1`, `?2` being now, passing
/// over the plugins in the JSON array `?4`.
///
/// One statement: SQLite runs it under the write lock, so two claimers can never
/// both take a job. It walks `jobs_due`, which holds only pending jobs, in order.
const CLAIM_SQL: &str =
    "UPDATE jobs SET locked_until = ?1, attempts = attempts + 1, updated_at = ?2
     WHERE id IN (
         SELECT id FROM jobs
         WHERE status = 'pending' AND run_at <= ?2
           AND (locked_until IS NULL OR locked_until <= ?2)
           AND plugin NOT IN (SELECT value FROM json_each(?4))
         ORDER BY run_at, id
         LIMIT ?3)
     RETURNING id, event_pk, rule, plugin, params, idempotency_key, attempts,
               attempt_base, queued_at";

/// Leases up to `limit` due jobs and returns their rows.
async fn claim_rows(
    conn: &mut SqliteConnection,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
    skip: &[String],
) -> Result<Vec<SqliteRow>> {
    // The plugins to skip as one JSON array, so the statement's text, and so its
    // prepared form, is the same whatever the list.
    let skip = serde_json::to_string(skip)
        .map_err(|e| StoreError::Corrupt(format!("plugins to skip: {e}")))?;
    let rows = sqlx::query(CLAIM_SQL)
        .bind(now_ms.saturating_add(lease_ms))
        .bind(now_ms)
        .bind(limit)
        .bind(skip)
        .fetch_all(conn)
        .await?;
    Ok(rows)
}

impl SqliteStore {
    pub async fn connect(url: &str, display: &str) -> Result<Self> {
        let open = |source| StoreError::Open {
            url: display.to_owned(),
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL: a commit returns before its fsync, and whoever was promised
            // durability waits for `WalSync` (see there), so the writer never waits
            // for the disk. Checkpoints still sync.
            .synchronous(SqliteSynchronous::Normal)
            // Checkpoints happen beside the writer, not inside its commits (see
            // `checkpoint`).
            .pragma("wal_autocheckpoint", "0")
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Its only user is this process; a ping before every use would be one
            // more round trip to the SQLite thread per write.
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query(writers::CREATE_INGEST_FLOOR)
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(open)?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        // An in-memory database exists once per connection: it must be the writer's.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let wal = WalSync::spawn((!in_memory).then(|| options.get_filename().to_owned()));
        let checkpoint = if in_memory {
            Checkpointer::none()
        } else {
            let conn = SqliteConnection::connect_with(&options)
                .await
                .map_err(open)?;
            Checkpointer::spawn(conn, checkpoint::RESTART_FRAMES)
        };
        let pool = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(MAX_READERS)
                .connect_with(options.read_only(true))
                .await
                .map_err(open)?
        };
        let ingest = GroupCommit::spawn_lingering(
            "herald-ingest",
            IngestWriter {
                writer: writer.clone(),
                wal: wal.clone(),
                checkpoint: checkpoint.clone(),
            },
            GROUP_COMMIT_MAX,
            Some(INGEST_LINGER),
        );
        let attempts = GroupCommit::spawn_lingering(
            "herald-attempts",
            AttemptWriter {
                writer: writer.clone(),
                checkpoint: checkpoint.clone(),
            },
            GROUP_COMMIT_MAX,
            Some(ATTEMPTS_LINGER),
        );
        Ok(Self {
            pool,
            writer,
            ingest,
            attempts,
            wal,
            checkpoint,
        })
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn ingest(&self, event: NewEvent) -> Result<IngestOutcome> {
        self.ingest.submit(event).await
    }

    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
        skip: &[String],
    ) -> Result<Vec<ClaimedJob>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Not synced: a lost lease only means the job is claimed again.
        let mut conn = self.writer.acquire().await?;
        self.checkpoint.finish_on(&mut conn).await?;
        let rows = claim_rows(&mut conn, now_ms, lease_ms, limit, skip).await?;
        drop(conn);

        let pks: Vec<i64> = rows
            .iter()
            .map(|row| row.try_get("event_pk"))
            .collect::<Result<_, _>>()?;
        let mut events = SharedEvents::new(self.load_events(&pks).await?, &pks);
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let event = events.take(row.try_get("event_pk")?)?;
            let params: String = row.try_get("params")?;
            let params: Map<String, Value> = serde_json::from_str(&params)
                .map_err(|e| StoreError::Corrupt(format!("job params: {e}")))?;
            let attempts: i64 = row.try_get("attempts")?;
            let attempt_base: i64 = row.try_get("attempt_base")?;
            claimed.push(ClaimedJob {
                id: row.try_get("id")?,
                event,
                rule: row.try_get("rule")?,
                plugin: row.try_get("plugin")?,
                params,
                idempotency_key: row.try_get("idempotency_key")?,
                attempt: to_u32(attempts),
                attempts_since_queued: to_u32(attempts - attempt_base),
                queued_at_ms: row.try_get("queued_at")?,
            });
        }
        claimed.sort_by_key(|job| job.id);
        Ok(claimed)
    }

    /// The events `pks` in one query, by pk.
    async fn load_events(&self, pks: &[i64]) -> Result<std::collections::HashMap<i64, Event>> {
        let mut events = std::collections::HashMap::with_capacity(pks.len());
        if pks.is_empty() {
            return Ok(events);
        }
        let mut query =
            QueryBuilder::<Sqlite>::new("SELECT pk, normalized, payload FROM events WHERE pk IN (");
        let mut list = query.separated(", ");
        for pk in pks {
            list.push_bind(*pk);
        }
        query.push(")");
        for row in query.build().fetch_all(&self.pool).await? {
            let pk: i64 = row.try_get("pk")?;
            events.insert(pk, event_from_row(&row, pk)?);
        }
        Ok(events)
    }

    pub(super) async fn load_event(&self, pk: i64) -> Result<Event> {
        let row = sqlx::query("SELECT normalized, payload FROM events WHERE pk = ?")
            .bind(pk)
            .fetch_one(&self.pool)
            .await?;
        event_from_row(&row, pk)
    }

    pub async fn record_attempt(
        &self,
        job_id: i64,
        attempt: u32,
        record: &AttemptRecord,
    ) -> Result<()> {
        self.attempts
            .submit(NewAttempt {
                job_id,
                attempt,
                record: record.clone(),
            })
            .await
    }

    pub async fn jobs_for_event(&self, source: &str, event_id: &str) -> Result<Vec<JobSummary>> {
        let sql =
            format!("{JOB_SUMMARY_SELECT} WHERE e.source = ? AND e.event_id = ? ORDER BY j.id");
        let rows = sqlx::query(&sql)
            .bind(source)
            .bind(event_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_summary).collect()
    }

    pub async fn defer(&self, job_id: i64, run_at_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET run_at = ?, locked_until = NULL, attempts = MAX(attempts - 1, attempt_base)
             WHERE id = ? AND status = 'pending'",
        )
        .bind(run_at_ms)
        .bind(job_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn attempts(&self, job_id: i64) -> Result<Vec<AttemptSummary>> {
        let rows = sqlx::query(
            "SELECT attempt, started_at, finished_at, outcome, error FROM attempts
             WHERE job_id = ? ORDER BY id",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let attempt: i64 = row.try_get("attempt")?;
                Ok(AttemptSummary {
                    attempt: to_u32(attempt),
                    started_at_ms: row.try_get("started_at")?,
                    finished_at_ms: row.try_get("finished_at")?,
                    outcome: row.try_get("outcome")?,
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }

    pub async fn event_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::JobFilter;

    /// A store on a file with `pending`, `delivered` and `dead` jobs, 1,000 of each.
    async fn store_with_jobs() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::TempDir::new().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("herald.db").display());
        let store = SqliteStore::connect(&url, "test").await.expect("connect");
        sqlx::raw_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO events (source, event_id, kind, created, livemode, normalized,
                                 payload, received_at)
             SELECT 'stripe', 'evt_' || i, 'charge.refunded', i, 0, '{}', '{}', i FROM n;
             INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                               status, run_at, dead_at, queued_at, created_at, updated_at)
             SELECT pk, 'r', 0, 'p', '{}', 'k' || pk,
                    CASE pk % 3 WHEN 0 THEN 'pending' WHEN 1 THEN 'delivered' ELSE 'dead' END,
                    pk, CASE pk % 3 WHEN 2 THEN pk END, pk, pk, pk
             FROM events;
             ANALYZE;",
        )
        .execute(&store.writer)
        .await
        .expect("jobs");
        (dir, store)
    }

    /// The steps of a query plan's rows, one per line.
    fn steps(rows: Vec<(i64, i64, i64, String)>) -> String {
        let steps: Vec<String> = rows.into_iter().map(|(_, _, _, step)| step).collect();
        steps.join("\n")
    }

    #[tokio::test]
    async fn a_claim_walks_the_pending_jobs_index_in_order() {
        let (_dir, store) = store_with_jobs().await;
        let plan = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {CLAIM_SQL}"))
            .bind(10_000_i64)
            .bind(5_000_i64)
            .bind(32_i64)
            .bind("[\"q\"]")
            .fetch_all(&store.writer)
            .await
            .map(steps)
            .expect("plan");
        assert!(plan.contains("USING INDEX jobs_due"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[tokio::test]
    async fn the_dead_letters_walk_the_dead_jobs_index_in_order() {
        let (_dir, store) = store_with_jobs().await;
        let query = admin::dead_letters_query(&JobFilter::default(), 50);
        let plan = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", query.sql()))
            .bind(50_i64)
            .fetch_all(&store.pool)
            .await
            .map(steps)
            .expect("plan");
        assert!(plan.contains("USING INDEX jobs_dead"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        let dead = store
            .dead_letters(&JobFilter::default(), 3)
            .await
            .expect("dead letters");
        let ids: Vec<i64> = dead.iter().map(|job| job.id).collect();
        assert_eq!(ids, [2, 5, 8]);
    }
}
