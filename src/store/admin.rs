//! What an operator does to the store: list, replay and purge dead letters,
//! re-deliver events, release held jobs, prune what is done.
//!
//! Id lists travel as one parameter ([`Dialect::any`]), whatever their length.
//! On PostgreSQL, where replicas and operators act at once, row locks keep each
//! command whole; on SQLite the single writer does.

use super::error::Result;
use super::job::{JobFilter, JobSummary, Pruned, Redelivered};
use super::new_event::NewJob;
use super::rows::{JobSummaryRow, JOB_SUMMARY_SELECT};
use super::sql::{Arg, Dialect, Run, Sql, Tx};
use super::Store;

/// The dead letters `filter` matches, the first `limit` by death, oldest first;
/// it walks `jobs_dead`, which holds only dead jobs, in order.
pub(super) fn dead_letters_sql(dialect: Dialect, filter: &JobFilter, limit: usize) -> Sql {
    let mut sql = Sql::new(format!("{JOB_SUMMARY_SELECT} WHERE j.status = 'dead'"));
    if let Some(job_ids) = &filter.job_ids {
        // An empty list matches nothing.
        let n = sql.next_placeholder();
        sql.push_bound(&format!(" AND j.id {}", dialect.any(n)), job_ids.as_slice());
    }
    if let Some(event_id) = &filter.event_id {
        sql.push_bound(" AND e.event_id = {}", event_id);
    }
    if let Some(rule) = &filter.rule {
        sql.push_bound(" AND j.rule = {}", rule);
    }
    if let Some(plugin) = &filter.plugin {
        sql.push_bound(" AND j.plugin = {}", plugin);
    }
    if let Some(since) = filter.since_ms {
        sql.push_bound(" AND j.dead_at >= {}", since);
    }
    if let Some(until) = filter.until_ms {
        sql.push_bound(" AND j.dead_at < {}", until);
    }
    sql.push_bound(
        " ORDER BY j.dead_at, j.id LIMIT {}",
        i64::try_from(limit).unwrap_or(i64::MAX),
    );
    sql
}

/// Deletes the jobs `ids` and their attempts in `tx`, which has locked them
/// already; how many jobs went.
pub(super) async fn delete_jobs(tx: &mut Tx<'_>, ids: Vec<i64>) -> Result<u64> {
    let any = tx.dialect().any(1);
    let ids = Arg::Ints(ids);
    let attempts = format!("DELETE FROM attempts WHERE job_id {any}");
    tx.execute(&Sql::new(attempts).bind(ids.clone())).await?;
    let jobs = format!("DELETE FROM jobs WHERE id {any}");
    tx.execute(&Sql::new(jobs).bind(ids)).await
}

/// Events received before `$1`, none of whose jobs still waits or lies dead.
const PRUNABLE: &str = "SELECT e.pk FROM events e WHERE e.received_at < $1
     AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_pk = e.pk
                     AND j.status NOT IN ('delivered', 'skipped'))";

impl Store {
    /// One job.
    ///
    /// # Errors
    /// On a database error.
    pub async fn job(&self, job_id: i64) -> Result<Option<JobSummary>> {
        let sql = Sql::new(format!("{JOB_SUMMARY_SELECT} WHERE j.id = $1")).bind(job_id);
        let row: Option<JobSummaryRow> = self.read().await?.fetch_optional(&sql).await?;
        Ok(row.map(JobSummary::from))
    }

    /// Dead letters matching `filter`, oldest death first, at most `limit`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn dead_letters(&self, filter: &JobFilter, limit: usize) -> Result<Vec<JobSummary>> {
        let sql = dead_letters_sql(self.dialect(), filter, limit);
        let rows: Vec<JobSummaryRow> = self.read().await?.fetch_all(&sql).await?;
        Ok(rows.into_iter().map(JobSummary::from).collect())
    }

    /// Queues every held job again (their templates were fixed, or a reload may have
    /// fixed them) with a fresh retry budget, due at `now_ms`. Returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn release_held(&self, now_ms: i64) -> Result<u64> {
        let sql = Sql::new(
            "UPDATE jobs SET status = 'pending', attempt_base = attempts,
                             locked_until = NULL, leased_by = NULL, run_at = $1, queued_at = $1,
                             updated_at = $1
             WHERE status = 'held'",
        )
        .bind(now_ms);
        let result = self.write_one(&sql).await;
        self.health.observe(&result);
        result
    }

    /// Queues dead letters `job_ids` again with a fresh retry budget; other jobs
    /// are left alone. Returns how many were queued.
    ///
    /// # Errors
    /// On a database error.
    pub async fn requeue(&self, job_ids: &[i64], now_ms: i64) -> Result<u64> {
        // `status = 'dead'` is checked again on a row another transaction changed
        // meanwhile, so a job a concurrent replay already queued is left alone.
        let sql = Sql::new(format!(
            "UPDATE jobs SET status = 'pending', attempt_base = attempts, dead_at = NULL,
                             locked_until = NULL, run_at = $1, queued_at = $1, updated_at = $1
             WHERE status = 'dead' AND id {}",
            self.dialect().any(2)
        ))
        .bind(now_ms)
        .bind(job_ids);
        self.write_one(&sql).await
    }

    /// Delivers a stored event again: every job it has (delivered, dead, or
    /// pending and not leased right now) is queued anew at `now_ms`, and those of
    /// `planned` it does not have yet (by idempotency key) are added. The caller
    /// plans them from the event ([`Store::event`]); the store checks, in the same
    /// transaction, that the event is still there. `None` when it is not.
    ///
    /// # Errors
    /// On a database error.
    pub async fn redeliver_event(
        &self,
        source: &str,
        event_id: &str,
        planned: &[NewJob],
        now_ms: i64,
    ) -> Result<Option<Redelivered>> {
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        // Under SQLite's write lock, or FOR SHARE on PostgreSQL: a concurrent prune
        // cannot delete the event while its jobs are queued again.
        let event = Sql::new(format!(
            "SELECT pk FROM events WHERE source = $1 AND event_id = $2{}",
            tx.dialect().for_share()
        ))
        .bind(source)
        .bind(event_id);
        let Some(event_pk) = tx.scalar::<i64>(&event).await? else {
            return Ok(None);
        };
        // A job claimed right now keeps its lease; everything else goes again.
        let again = Sql::new(
            "UPDATE jobs SET status = 'pending', attempt_base = attempts, dead_at = NULL,
                             run_at = $1, queued_at = $1, updated_at = $1
             WHERE event_pk = $2 AND NOT (status = 'pending' AND locked_until > $1)",
        )
        .bind(now_ms)
        .bind(event_pk);
        let requeued = tx.execute(&again).await?;
        let added = tx.insert_jobs(event_pk, planned, now_ms).await?;
        tx.commit().await?;
        Ok(Some(Redelivered { requeued, added }))
    }

    /// Deletes dead letters `job_ids` and their attempts, for good.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_dead(&self, job_ids: &[i64]) -> Result<u64> {
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        let dialect = tx.dialect();
        // The dead ones locked first: a job requeued concurrently is either seen as
        // pending here and kept whole, or waits until it is gone; never does it
        // lose its attempts but stay.
        let dead = Sql::new(format!(
            "SELECT id FROM jobs WHERE status = 'dead' AND id {} ORDER BY id{}",
            dialect.any(1),
            dialect.for_update()
        ))
        .bind(job_ids);
        let dead = tx.scalars(&dead).await?;
        let purged = delete_jobs(&mut tx, dead).await?;
        tx.commit().await?;
        Ok(purged)
    }

    /// Deletes events received before `before_ms` whose jobs are all delivered,
    /// with their jobs and attempts. Dead letters and pending jobs keep their event.
    ///
    /// # Errors
    /// On a database error.
    pub async fn prune_delivered(&self, before_ms: i64) -> Result<Pruned> {
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        let dialect = tx.dialect();
        // On PostgreSQL the candidates are locked against a concurrent
        // redeliver_event (FOR SHARE on the event), then checked again: this
        // statement's snapshot sees the jobs a redelivery that held the lock first
        // has queued, and none can start now. Delivered jobs of locked events stay
        // delivered, so the deletes below all see the same set.
        let lock = match dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE OF e",
        };
        let candidates = Sql::new(format!("{PRUNABLE} ORDER BY e.pk{lock}")).bind(before_ms);
        let candidates: Vec<i64> = tx.scalars(&candidates).await?;
        let pks = Sql::new(format!("{PRUNABLE} AND e.pk {}", dialect.any(2)))
            .bind(before_ms)
            .bind(Arg::Ints(candidates));
        let pks = Arg::Ints(tx.scalars(&pks).await?);
        let any = dialect.any(1);
        let attempts = format!(
            "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE event_pk {any})"
        );
        let attempts = tx.execute(&Sql::new(attempts).bind(pks.clone())).await?;
        let jobs = format!("DELETE FROM jobs WHERE event_pk {any}");
        let jobs = tx.execute(&Sql::new(jobs).bind(pks.clone())).await?;
        let events = format!("DELETE FROM events WHERE pk {any}");
        let events = tx.execute(&Sql::new(events).bind(pks)).await?;
        tx.commit().await?;
        Ok(Pruned {
            events,
            jobs,
            attempts,
        })
    }

    /// Runs one durable statement in its own transaction; how many rows it changed.
    async fn write_one(&self, sql: &Sql) -> Result<u64> {
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        let changed = tx.execute(sql).await?;
        tx.commit().await?;
        Ok(changed)
    }
}
