//! The PostgreSQL backend: several herald replicas share one database.
//!
//! This folder holds only what is PostgreSQL's own: the two pools and the batch
//! inserts (`UNNEST`). Every other query is shared with SQLite (`crate::store::sql`);
//! where SQLite's single writer makes a statement safe by itself, the shared text
//! takes a row lock from [`crate::store::sql::Dialect`] here (the claim's
//! `FOR UPDATE SKIP LOCKED` among them), and the unique constraints behind
//! `ON CONFLICT` do the rest.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

mod batch_inserts;
#[cfg(test)]
mod tests;

use self::batch_inserts::{AttemptWriter, IngestWriter};
use super::attempt::NewAttempt;
use super::error::{Result, StoreError};
use super::group_commit::GroupCommit;
use super::job::IngestOutcome;
use super::links::RecentLinks;
use super::new_event::{NewEvent, NewJob};
use super::{GROUP_COMMIT_MAX, INGEST_LINGER};

/// Connections in the main pool: enough for the ingest writer, the operator's
/// commands and the plugins' own state of one replica; with the bookkeeping pool,
/// few enough that several replicas fit in a server's default 100.
const MAX_CONNECTIONS: u32 = 12;

/// Connections for the bookkeeping (claims, attempt records, deferrals, the
/// heartbeat): one claimer and one attempt writer, with room for a deferral and
/// a heartbeat beside them.
const BOOKKEEPING_CONNECTIONS: u32 = 4;

/// How long a query waits for a free connection (a new one's connect included) before
/// failing, so an unreachable server surfaces as a webhook's 503 within a couple of
/// seconds, well inside Stripe's and the request's timeouts, instead of a hung request.
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// The bookkeeping sessions' settings. Their commits do not wait for the WAL
/// flush (see [`PostgresStore::bookkeeping`]). And their statements (the claim,
/// the attempt records, deferrals) each have one right plan, which walks an
/// index whatever the table holds; the others are priced out. Planned from
/// statistics taken while the jobs table was small (a new database, or a quiet
/// day before a sale), the claim read and sorted every pending job, which grew
/// slow with a backlog, and the attempt records scanned the whole table.
///
/// Set once a session is open rather than sent in the startup packet: PgBouncer
/// refuses a startup packet with `options` unless told to ignore them.
const BOOKKEEPING_SETTINGS: &str = "SET synchronous_commit = off;
     SET enable_seqscan = off;
     SET enable_bitmapscan = off;
     SET enable_sort = off;
     SET enable_hashjoin = off;";

/// Inserts `jobs` for event `event_pk` in one statement; a job whose idempotency
/// key exists is skipped. Returns how many were inserted.
pub(in crate::store) async fn insert_jobs(
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
    let mut run_ats = Vec::with_capacity(jobs.len());
    for job in jobs {
        rules.push(job.rule.clone());
        indexes.push(job.action_index);
        plugins.push(job.plugin.clone());
        params.push(job.params.clone());
        keys.push(job.idempotency_key.clone());
        run_ats.push(job.first_run(now));
    }
    // ORDER BY the ordinality: ids follow the plan's order, as SQLite's do.
    let inserted = sqlx::query(
        "INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                           run_at, queued_at, created_at, updated_at)
         SELECT $1, t.rule, t.action_index, t.plugin, t.params, t.idempotency_key,
                t.run_at, $7, $7, $7
         FROM UNNEST($2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $8::BIGINT[])
              WITH ORDINALITY AS t(rule, action_index, plugin, params, idempotency_key, run_at, n)
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
    .bind(run_ats)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted)
}

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pub(in crate::store) pool: PgPool,
    /// Sessions with `synchronous_commit = off`: a claim, an attempt record or a
    /// deferral commits without waiting for the WAL flush, as on SQLite. What a
    /// server crash loses of them is a delivery made again, with the same
    /// idempotency key; the next acknowledged event's flush covers them too.
    pub(in crate::store) bookkeeping: PgPool,
    pub(in crate::store) ingest: GroupCommit<NewEvent, IngestOutcome>,
    pub(in crate::store) attempts: GroupCommit<NewAttempt, ()>,
}

impl PostgresStore {
    /// Connects and runs pending migrations; replicas starting together are
    /// serialized by the migrator's advisory lock.
    pub async fn connect(url: &str, display: &str, instance: Arc<str>) -> Result<Self> {
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
            IngestWriter {
                pool: pool.clone(),
                links: RecentLinks::default(),
            },
            GROUP_COMMIT_MAX,
            Some(INGEST_LINGER),
        );
        // No linger: this writer is what holds PostgreSQL delivery back, and a
        // wait before its batches made the queue grow.
        let attempts = GroupCommit::spawn(
            "herald-attempts",
            AttemptWriter {
                pool: bookkeeping.clone(),
                instance,
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
}
