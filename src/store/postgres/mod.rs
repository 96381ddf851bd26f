//! The PostgreSQL backend: several herald replicas share one database.
//!
//! Behaves like the SQLite backend, statement for statement where it can. Where
//! SQLite's single writer makes a statement safe by itself, this backend says how
//! it stays safe with concurrent writers: row locks (`FOR UPDATE SKIP LOCKED` when
//! claiming, `FOR UPDATE`/`FOR SHARE` in the operator's commands) and the unique
//! constraints behind `ON CONFLICT`.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use herald_plugin_api::{Event, Payload};
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Row};

mod admin;
mod inventory;
mod orders;
mod writers;

use self::writers::{AttemptWriter, IngestWriter};
use super::error::{Result, StoreError};
use super::group_commit::GroupCommit;
use super::new_event::{NewEvent, NewJob};
use super::shared_events::SharedEvents;
use super::{
    AttemptRecord, AttemptSummary, ClaimedJob, IngestOutcome, JobSummary, NewAttempt,
    GROUP_COMMIT_MAX, INGEST_LINGER,
};

/// The columns [`job_summary`] reads, joined with their event.
const JOB_SUMMARY_SELECT: &str =
    "SELECT j.id, e.event_id, e.kind, j.rule, j.plugin, j.idempotency_key, j.status, j.attempts,
            j.last_error, j.dead_at
     FROM jobs j JOIN events e ON e.pk = j.event_pk";

/// Connections in the main pool: enough for the ingest writer, the operator's
/// commands and the plugins' own state of one replica; with the bookkeeping pool,
/// few enough that several replicas fit in a server's default 100.
const MAX_CONNECTIONS: u32 = 12;

/// Connections for the bookkeeping (claims, attempt records, deferrals): one
/// claimer and one attempt writer, with room for a deferral beside them.
const BOOKKEEPING_CONNECTIONS: u32 = 4;

/// How long a query waits for a free connection before failing, so an overloaded
/// or unreachable server surfaces as an error instead of a hung request.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The bookkeeping sessions' settings. Their commits do not wait for the WAL
/// flush (see [`PostgresStore::bookkeeping`]). And their statements (the claim,
/// the attempt records, deferrals) each have one right plan, which walks an
/// index whatever the table holds; the others are priced out. Planned from
/// statistics taken while the jobs table was small (a new database, or a quiet
/// day before a sale), the claim read and sorted every pending job, 35 ms a claim
/// with 32,000 queued, and the attempt records scanned the whole table.
///
/// Set once a session is open rather than sent in the startup packet: PgBouncer
/// refuses a startup packet with `options` unless told to ignore them.
const BOOKKEEPING_SETTINGS: &str = "SET synchronous_commit = off;
     SET enable_seqscan = off;
     SET enable_bitmapscan = off;
     SET enable_sort = off;
     SET enable_hashjoin = off;";

/// Claims up to `$3` due jobs for a lease ending at `$1`, `$2` being now.
///
/// `FOR UPDATE SKIP LOCKED` makes concurrent claimers (in this process or another
/// replica) pass over rows another claim is taking instead of waiting for it; a
/// row that claim has committed meanwhile is re-checked against the `WHERE`
/// (READ COMMITTED re-evaluation) and dropped, as its lease now hides it. So no job
/// is ever handed to two workers.
const CLAIM_SQL: &str =
    "UPDATE jobs SET locked_until = $1, attempts = attempts + 1, updated_at = $2
     WHERE id IN (
         SELECT id FROM jobs
         WHERE status = 'pending' AND run_at <= $2
           AND (locked_until IS NULL OR locked_until <= $2)
           AND NOT (plugin = ANY($4))
         ORDER BY run_at, id
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
     RETURNING id, event_pk, rule, plugin, params, idempotency_key, attempts, attempt_base,
               queued_at";

fn job_summary(row: &PgRow) -> Result<JobSummary> {
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

/// An event from a row with its `pk`, `normalized` and `payload` columns.
fn event_from_row(row: &PgRow) -> Result<(i64, Event)> {
    let pk: i64 = row.try_get("pk")?;
    let normalized: String = row.try_get("normalized")?;
    let payload: String = row.try_get("payload")?;
    let mut event: Event = serde_json::from_str(&normalized)
        .map_err(|e| StoreError::Corrupt(format!("event {pk}: {e}")))?;
    // Checked to be JSON on receipt; parsed only if a plugin reads it as a tree.
    event.raw = Payload::from_text(payload);
    Ok((pk, event))
}

/// Inserts `jobs` for event `event_pk` in one statement; a job whose idempotency
/// key exists is skipped. Returns how many were inserted.
async fn insert_jobs(
    conn: &mut PgConnection,
    event_pk: i64,
    jobs: &[NewJob],
    now: i64,
) -> Result<u64> {
    if jobs.is_empty() {
        return Ok(0);
    }
    // Column-wise arrays for UNNEST: one round trip whatever the number of jobs.
    let mut rules = Vec::with_capacity(jobs.len());
    let mut indexes = Vec::with_capacity(jobs.len());
    let mut plugins = Vec::with_capacity(jobs.len());
    let mut params = Vec::with_capacity(jobs.len());
    let mut keys = Vec::with_capacity(jobs.len());
    for job in jobs {
        rules.push(job.rule.clone());
        indexes.push(job.action_index);
        plugins.push(job.plugin.clone());
        params.push(job.params.clone());
        keys.push(job.idempotency_key.clone());
    }
    // ORDER BY the ordinality: ids follow the plan's order, as SQLite's do.
    let inserted = sqlx::query(
        "INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                           run_at, queued_at, created_at, updated_at)
         SELECT $1, t.rule, t.action_index, t.plugin, t.params, t.idempotency_key,
                $7, $7, $7, $7
         FROM UNNEST($2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[])
              WITH ORDINALITY AS t(rule, action_index, plugin, params, idempotency_key, n)
         ORDER BY t.n
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(event_pk)
    .bind(rules)
    .bind(indexes)
    .bind(plugins)
    .bind(params)
    .bind(keys)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted)
}

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Sessions with `synchronous_commit = off`: a claim, an attempt record or a
    /// deferral commits without waiting for the WAL flush, as on SQLite. What a
    /// server crash loses of them is a delivery made again, with the same
    /// idempotency key; the next acknowledged event's flush covers them too.
    bookkeeping: PgPool,
    ingest: GroupCommit<NewEvent, IngestOutcome>,
    attempts: GroupCommit<NewAttempt, ()>,
}

impl PostgresStore {
    /// Connects and runs pending migrations; replicas starting together are
    /// serialized by the migrator's advisory lock.
    pub async fn connect(url: &str, display: &str) -> Result<Self> {
        let open = |source| StoreError::Open {
            url: display.to_owned(),
            source,
        };
        let options = PgConnectOptions::from_str(url)
            .map_err(open)?
            // Names herald's sessions in `pg_stat_activity`.
            .application_name("herald");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(open)?;
        let bookkeeping = PgPoolOptions::new()
            .max_connections(BOOKKEEPING_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(|session, _| {
                Box::pin(async move {
                    // No arguments: the simple protocol, which takes several statements.
                    sqlx::Executor::execute(session, BOOKKEEPING_SETTINGS).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let ingest = GroupCommit::spawn_lingering(
            "herald-ingest",
            IngestWriter { pool: pool.clone() },
            GROUP_COMMIT_MAX,
            Some(INGEST_LINGER),
        );
        // No linger: this writer is what holds PostgreSQL delivery back, and a
        // wait before its batches made the queue grow (README, Performance).
        let attempts = GroupCommit::spawn(
            "herald-attempts",
            AttemptWriter {
                pool: bookkeeping.clone(),
            },
            GROUP_COMMIT_MAX,
        );
        Ok(Self {
            pool,
            bookkeeping,
            ingest,
            attempts,
        })
    }

    /// Checks the server answers (see [`crate::store::Store::ping`]).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stores an event and its jobs (see [`crate::store::Store::ingest`]).
    pub async fn ingest(&self, event: NewEvent) -> Result<IngestOutcome> {
        self.ingest.submit(event).await
    }

    /// Claims due jobs under a lease (see [`crate::store::Store::claim_due`]).
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
        skip: &[String],
    ) -> Result<Vec<ClaimedJob>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = sqlx::query(CLAIM_SQL)
            .bind(now_ms.saturating_add(lease_ms))
            .bind(now_ms)
            .bind(limit)
            .bind(skip)
            .fetch_all(&self.bookkeeping)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }

        let job_event_pks = rows
            .iter()
            .map(|row| row.try_get::<i64, _>("event_pk"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut event_pks = job_event_pks.clone();
        event_pks.sort_unstable();
        event_pks.dedup();
        let mut events = SharedEvents::new(self.load_events(&event_pks).await?, &job_event_pks);

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
        // RETURNING comes in no particular order; hand jobs out oldest first.
        claimed.sort_by_key(|job| job.id);
        Ok(claimed)
    }

    /// The events `pks`, in one query, by pk.
    async fn load_events(&self, pks: &[i64]) -> Result<HashMap<i64, Event>> {
        let rows = sqlx::query("SELECT pk, normalized, payload FROM events WHERE pk = ANY($1)")
            .bind(pks)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Records an attempt and moves the job on (see [`crate::store::Store::record_attempt`]).
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

    /// The jobs of an event (see [`crate::store::Store::jobs_for_event`]).
    pub async fn jobs_for_event(&self, source: &str, event_id: &str) -> Result<Vec<JobSummary>> {
        let sql =
            format!("{JOB_SUMMARY_SELECT} WHERE e.source = $1 AND e.event_id = $2 ORDER BY j.id");
        let rows = sqlx::query(&sql)
            .bind(source)
            .bind(event_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_summary).collect()
    }

    /// Gives a claimed job back uncounted (see [`crate::store::Store::defer`]).
    pub async fn defer(&self, job_id: i64, run_at_ms: i64) -> Result<()> {
        // The claim counted an attempt that was never made: take it back, but never
        // below the budget's base.
        sqlx::query(
            "UPDATE jobs SET run_at = $1, locked_until = NULL,
                             attempts = GREATEST(attempts - 1, attempt_base)
             WHERE id = $2 AND status = 'pending'",
        )
        .bind(run_at_ms)
        .bind(job_id)
        .execute(&self.bookkeeping)
        .await?;
        Ok(())
    }

    /// The recorded attempts of a job (see [`crate::store::Store::attempts`]).
    pub async fn attempts(&self, job_id: i64) -> Result<Vec<AttemptSummary>> {
        let rows = sqlx::query(
            "SELECT attempt, started_at, finished_at, outcome, error FROM attempts
             WHERE job_id = $1 ORDER BY id",
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

    /// How many events are stored (see [`crate::store::Store::event_count`]).
    pub async fn event_count(&self) -> Result<i64> {
        // COUNT(*) is BIGINT in PostgreSQL: it decodes as i64 directly.
        let row = sqlx::query("SELECT COUNT(*) AS n FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Executor, PgConnection};

    use super::*;
    use crate::store::group_commit::BatchWriter;

    /// `SHOW synchronous_commit` on a connection of `pool`.
    async fn synchronous_commit(pool: &PgPool) -> String {
        sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(pool)
            .await
            .expect("SHOW synchronous_commit")
    }

    /// A fresh database on the test server (`None`, skipped, without one), and
    /// the admin connection that drops it.
    async fn fresh_database(settings: &str) -> Option<(PgConnection, String, String)> {
        let Some(admin) = std::env::var("HERALD_TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            assert!(
                std::env::var_os("CI").is_none(),
                "HERALD_TEST_DATABASE_URL is not set: run ./scripts/test"
            );
            eprintln!("HERALD_TEST_DATABASE_URL is not set: PostgreSQL case skipped");
            return None;
        };
        let name = format!("herald_unit_{:016x}", rand::random::<u64>());
        let mut conn = PgConnection::connect(&admin).await.expect("admin");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create");
        if !settings.is_empty() {
            conn.execute(format!("ALTER DATABASE {name} SET {settings}").as_str())
                .await
                .expect("alter");
        }
        let (prefix, _) = admin.rsplit_once('/').expect("a URL ending in /db");
        Some((conn, name.clone(), format!("{prefix}/{name}")))
    }

    async fn drop_database(mut conn: PgConnection, store: PostgresStore, name: &str) {
        store.pool.close().await;
        store.bookkeeping.close().await;
        drop(store);
        conn.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
            .await
            .expect("drop");
    }

    /// The plans `sql` gets on a bookkeeping session for `args` (SQL literals),
    /// custom and generic, one line per node.
    async fn plans(store: &PostgresStore, sql: &str, args: &str) -> Vec<String> {
        let mut session = store.bookkeeping.acquire().await.expect("a session");
        sqlx::raw_sql(&format!("PREPARE probe AS {sql}"))
            .execute(&mut *session)
            .await
            .expect("prepare");
        let mut plans = Vec::new();
        for mode in ["force_custom_plan", "force_generic_plan"] {
            sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}"))
                .execute(&mut *session)
                .await
                .expect("plan_cache_mode");
            let lines: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN EXECUTE probe({args})"))
                .fetch_all(&mut *session)
                .await
                .expect("explain");
            plans.push(format!("{mode}:\n{}", lines.join("\n")));
        }
        // Not back into the pool with a statement and a setting of the test's.
        session.close().await.expect("close");
        plans
    }

    /// Bookkeeping must not wait for the WAL flush, and ingest must: on a database
    /// set to flush every commit, the two pools' sessions differ.
    #[tokio::test]
    async fn only_bookkeeping_sessions_skip_the_wal_flush() {
        // The test server runs with synchronous_commit off; production's is on.
        let Some((conn, name, url)) = fresh_database("synchronous_commit = on").await else {
            return;
        };
        let store = PostgresStore::connect(&url, "test").await.expect("connect");
        let settings = (
            synchronous_commit(&store.pool).await,
            synchronous_commit(&store.bookkeeping).await,
        );
        drop_database(conn, store, &name).await;
        assert_eq!(settings, ("on".to_owned(), "off".to_owned()));
    }

    /// As on SQLite: in one batch, only the first copy of a new event brings jobs.
    #[tokio::test]
    async fn only_new_first_copies_bring_their_jobs() {
        let Some((conn, name, url)) = fresh_database("").await else {
            return;
        };
        let store = PostgresStore::connect(&url, "test").await.expect("connect");
        let writer = IngestWriter {
            pool: store.pool.clone(),
        };
        let first = writer
            .write_batch(&[NewEvent::sample("evt_old", &["a"])])
            .await;
        let batch = [
            NewEvent::sample("evt_new", &["x", "y"]),
            // A later copy planned differently, and a stored event planned anew:
            // neither adds a job.
            NewEvent::sample("evt_new", &["z"]),
            NewEvent::sample("evt_old", &["b"]),
            NewEvent::sample("evt_quiet", &[]),
        ];
        let outcomes = writer.write_batch(&batch).await;
        let jobs: Vec<(String, String)> = sqlx::query_as(
            "SELECT e.event_id, j.rule FROM jobs j JOIN events e ON e.pk = j.event_pk ORDER BY j.id",
        )
        .fetch_all(&store.pool)
        .await
        .expect("jobs");
        drop_database(conn, store, &name).await;

        assert_eq!(first.expect("first"), [IngestOutcome::Stored { jobs: 1 }]);
        let expected = [
            IngestOutcome::Stored { jobs: 2 },
            IngestOutcome::Duplicate,
            IngestOutcome::Duplicate,
            IngestOutcome::Stored { jobs: 0 },
        ];
        assert_eq!(outcomes.expect("batch"), expected);
        let jobs: Vec<(&str, &str)> = jobs.iter().map(|(e, r)| (e.as_str(), r.as_str())).collect();
        assert_eq!(jobs, [("evt_old", "a"), ("evt_new", "x"), ("evt_new", "y")]);
    }

    /// A backlog that grew after the statistics were taken (here: never taken)
    /// must not make a claim read every pending job, nor an attempt record scan
    /// the table: both walk an index, with the plan cached from the start too.
    #[tokio::test]
    async fn claims_and_attempt_records_walk_an_index_on_stale_statistics() {
        let Some((conn, name, url)) = fresh_database("").await else {
            return;
        };
        let store = PostgresStore::connect(&url, "test").await.expect("connect");
        sqlx::raw_sql(
            "ALTER TABLE events SET (autovacuum_enabled = false);
             ALTER TABLE jobs SET (autovacuum_enabled = false);
             INSERT INTO events (source, event_id, kind, created, livemode, normalized,
                                 payload, received_at)
             SELECT 'stripe', 'evt_' || n, 'charge.refunded', n, false, '{}', '{}', n
             FROM generate_series(1, 20000) AS n;
             INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                               run_at, queued_at, created_at, updated_at)
             SELECT pk, 'r', 0, 'p', '{}', 'k' || pk, pk, pk, pk, pk FROM events;",
        )
        .execute(&store.pool)
        .await
        .expect("a backlog");

        let now = 1_000_000;
        let lease = now + 60_000;
        let mut claim = plans(&store, CLAIM_SQL, &format!("{lease}, {now}, 32, '{{}}'")).await;
        // Skipping a plugin filters the same walk.
        let skip = format!("{lease}, {now}, 32, ARRAY['p']");
        claim.extend(plans(&store, CLAIM_SQL, &skip).await);
        let ids = "ARRAY[1, 2, 3]::BIGINT[]";
        let texts = "ARRAY['delivered', 'delivered', 'delivered']";
        let record = plans(
            &store,
            writers::RECORD_ATTEMPTS_SQL,
            &format!("{ids}, {ids}, {ids}, {ids}, {texts}, {texts}, {texts}, {ids}"),
        )
        .await;
        drop_database(conn, store, &name).await;

        for (what, plan) in claim
            .iter()
            .map(|plan| ("claim", plan))
            .chain(record.iter().map(|plan| ("attempt record", plan)))
        {
            for node in ["Seq Scan", "Bitmap Heap Scan", "Hash Join", "->  Sort "] {
                assert!(!plan.contains(node), "the {what} plans a {node}: {plan}");
            }
        }
    }
}
