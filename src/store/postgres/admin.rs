//! What an operator does to the PostgreSQL store: list, replay and purge dead
//! letters, re-deliver events, prune what is done.
//!
//! Id lists travel as one `BIGINT[]` parameter (`= ANY($n)`), so there is no
//! chunking as with SQLite's bound-parameter limit.

use sqlx::{Postgres, QueryBuilder};

use super::{insert_jobs, PostgresStore};
use crate::store::error::Result;
use crate::store::job::{JobFilter, JobSummary, Pruned, Redelivered};
use crate::store::new_event::NewJob;
use crate::store::rows::{JobSummaryRow, JOB_SUMMARY_SELECT};

/// Appends `filter` as `AND …` clauses over `j` (jobs) and `e` (events).
fn push_filter(query: &mut QueryBuilder<'_, Postgres>, filter: &JobFilter) {
    if let Some(job_ids) = &filter.job_ids {
        // `= ANY('{}')` is false: an empty list matches nothing.
        query
            .push(" AND j.id = ANY(")
            .push_bind(job_ids.clone())
            .push(")");
    }
    if let Some(event_id) = &filter.event_id {
        query.push(" AND e.event_id = ").push_bind(event_id.clone());
    }
    if let Some(rule) = &filter.rule {
        query.push(" AND j.rule = ").push_bind(rule.clone());
    }
    if let Some(plugin) = &filter.plugin {
        query.push(" AND j.plugin = ").push_bind(plugin.clone());
    }
    if let Some(since) = filter.since_ms {
        query.push(" AND j.dead_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until_ms {
        query.push(" AND j.dead_at < ").push_bind(until);
    }
}

impl PostgresStore {
    /// One job (see [`crate::store::Store::job`]).
    pub async fn job(&self, job_id: i64) -> Result<Option<JobSummary>> {
        let sql = format!("{JOB_SUMMARY_SELECT} WHERE j.id = $1");
        let row = sqlx::query_as::<_, JobSummaryRow>(&sql)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(JobSummary::from))
    }

    /// Dead letters matching `filter` (see [`crate::store::Store::dead_letters`]).
    pub async fn dead_letters(&self, filter: &JobFilter, limit: usize) -> Result<Vec<JobSummary>> {
        let mut query = QueryBuilder::new(JOB_SUMMARY_SELECT);
        query.push(" WHERE j.status = 'dead'");
        push_filter(&mut query, filter);
        query
            .push(" ORDER BY j.dead_at, j.id LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = query
            .build_query_as::<JobSummaryRow>()
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(JobSummary::from).collect())
    }

    /// Queues held jobs again (see [`crate::store::Store::release_held`]).
    pub async fn release_held(&self, now_ms: i64) -> Result<u64> {
        let released = sqlx::query(
            "UPDATE jobs SET status = 'pending', attempt_base = attempts,
                             locked_until = NULL, leased_by = NULL, run_at = $1, queued_at = $1,
                             updated_at = $1
             WHERE status = 'held'",
        )
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(released)
    }

    /// Queues dead letters again (see [`crate::store::Store::requeue`]).
    pub async fn requeue(&self, job_ids: &[i64], now_ms: i64) -> Result<u64> {
        // `status = 'dead'` is re-checked on a row another transaction changed
        // meanwhile, so a job a concurrent replay already queued is left alone.
        let requeued = sqlx::query(
            "UPDATE jobs SET status = 'pending', attempt_base = attempts, dead_at = NULL,
                             locked_until = NULL, run_at = $1, queued_at = $1, updated_at = $1
             WHERE status = 'dead' AND id = ANY($2)",
        )
        .bind(now_ms)
        .bind(job_ids)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(requeued)
    }

    /// Delivers a stored event again (see [`crate::store::Store::redeliver_event`]).
    pub async fn redeliver_event(
        &self,
        source: &str,
        event_id: &str,
        planned: &[NewJob],
        now_ms: i64,
    ) -> Result<Option<Redelivered>> {
        let mut tx = self.pool.begin().await?;
        // FOR SHARE keeps a concurrent prune (FOR UPDATE on the event) from
        // deleting the event while its jobs are being queued again.
        let Some(event_pk) = sqlx::query_scalar::<_, i64>(
            "SELECT pk FROM events WHERE source = $1 AND event_id = $2 FOR SHARE",
        )
        .bind(source)
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        // A job claimed right now keeps its lease; everything else goes again.
        let requeued = sqlx::query(
            "UPDATE jobs SET status = 'pending', attempt_base = attempts, dead_at = NULL,
                             run_at = $1, queued_at = $1, updated_at = $1
             WHERE event_pk = $2 AND NOT (status = 'pending' AND locked_until > $1)",
        )
        .bind(now_ms)
        .bind(event_pk)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let added = insert_jobs(&mut tx, event_pk, planned, now_ms).await?;
        tx.commit().await?;
        Ok(Some(Redelivered { requeued, added }))
    }

    /// Deletes dead letters for good (see [`crate::store::Store::purge_dead`]).
    pub async fn purge_dead(&self, job_ids: &[i64]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        // Lock the dead ones first: a job requeued concurrently is either seen as
        // pending here and kept whole, or waits until it is gone; never does it
        // lose its attempts but stay.
        let dead: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE status = 'dead' AND id = ANY($1) ORDER BY id FOR UPDATE",
        )
        .bind(job_ids)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM attempts WHERE job_id = ANY($1)")
            .bind(&dead)
            .execute(&mut *tx)
            .await?;
        let purged = sqlx::query("DELETE FROM jobs WHERE id = ANY($1)")
            .bind(&dead)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(purged)
    }

    /// Deletes old, fully delivered events (see [`crate::store::Store::prune_delivered`]).
    pub async fn prune_delivered(&self, before_ms: i64) -> Result<Pruned> {
        // Events old enough, none of whose jobs still waits or lies dead.
        const PRUNABLE: &str = "SELECT e.pk FROM events e WHERE e.received_at < $1
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_pk = e.pk AND j.status NOT IN ('delivered', 'skipped'))";
        let mut tx = self.pool.begin().await?;
        // Lock the candidates against a concurrent redeliver_event (FOR SHARE on
        // the event), then check them again: this statement's snapshot sees the
        // jobs a redelivery that held the lock before us has queued, and none can
        // start now. Delivered jobs of locked events stay delivered, so the
        // deletes below all see the same set.
        let candidates: Vec<i64> =
            sqlx::query_scalar(&format!("{PRUNABLE} ORDER BY e.pk FOR UPDATE OF e"))
                .bind(before_ms)
                .fetch_all(&mut *tx)
                .await?;
        let pks: Vec<i64> = sqlx::query_scalar(&format!("{PRUNABLE} AND e.pk = ANY($2)"))
            .bind(before_ms)
            .bind(&candidates)
            .fetch_all(&mut *tx)
            .await?;
        let attempts = sqlx::query(
            "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE event_pk = ANY($1))",
        )
        .bind(&pks)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let jobs = sqlx::query("DELETE FROM jobs WHERE event_pk = ANY($1)")
            .bind(&pks)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let events = sqlx::query("DELETE FROM events WHERE pk = ANY($1)")
            .bind(&pks)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(Pruned {
            events,
            jobs,
            attempts,
        })
    }
}
