//! What an operator does to the SQLite store: list, replay and purge dead letters,
//! re-deliver events, prune what is done.

use sqlx::{QueryBuilder, Sqlite};

use super::{insert_jobs, SqliteStore};
use crate::store::error::Result;
use crate::store::job::{JobFilter, JobSummary, Pruned, Redelivered};
use crate::store::new_event::NewJob;
use crate::store::rows::{JobSummaryRow, JOB_SUMMARY_SELECT};

/// Queues every held job again with a fresh retry budget (`?1` is now).
const RELEASE_HELD: &str = "UPDATE jobs SET status = 'pending', attempt_base = attempts,
        locked_until = NULL, leased_by = NULL, run_at = ?1, queued_at = ?1, updated_at = ?1
     WHERE status = 'held'";

/// How many ids go into one `IN (…)` list: well under SQLite's bound-parameter limit.
const ID_CHUNK: usize = 500;

/// Appends `filter` as `AND …` clauses over `j` (jobs) and `e` (events).
fn push_filter(query: &mut QueryBuilder<'_, Sqlite>, filter: &JobFilter) {
    if let Some(job_ids) = &filter.job_ids {
        // `IN ()` is false in SQLite: an empty list matches nothing.
        query.push(" AND j.id");
        push_id_list(query, job_ids);
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

/// The first `limit` dead letters that match `filter`, oldest first; it walks
/// `jobs_dead`, which holds only dead jobs, in order.
pub(super) fn dead_letters_query(
    filter: &JobFilter,
    limit: usize,
) -> QueryBuilder<'static, Sqlite> {
    let mut query = QueryBuilder::new(JOB_SUMMARY_SELECT);
    query.push(" WHERE j.status = 'dead'");
    push_filter(&mut query, filter);
    query
        .push(" ORDER BY j.dead_at, j.id LIMIT ")
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
    query
}

/// Appends ` IN (?, ?, …)` binding `ids`.
fn push_id_list(query: &mut QueryBuilder<'_, Sqlite>, ids: &[i64]) {
    query.push(" IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    list.push_unseparated(")");
}

impl SqliteStore {
    pub async fn job(&self, job_id: i64) -> Result<Option<JobSummary>> {
        let sql = format!("{JOB_SUMMARY_SELECT} WHERE j.id = ?");
        let row = sqlx::query_as::<_, JobSummaryRow>(&sql)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(JobSummary::from))
    }

    pub async fn dead_letters(&self, filter: &JobFilter, limit: usize) -> Result<Vec<JobSummary>> {
        let rows = dead_letters_query(filter, limit)
            .build_query_as::<JobSummaryRow>()
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(JobSummary::from).collect())
    }

    pub async fn requeue(&self, job_ids: &[i64], now_ms: i64) -> Result<u64> {
        let mut write = self.writer.durable().await?;
        let mut tx = write.begin().await?;
        let mut requeued = 0;
        for chunk in job_ids.chunks(ID_CHUNK) {
            let mut query = QueryBuilder::new(
                "UPDATE jobs SET status = 'pending', attempt_base = attempts, dead_at = NULL, ",
            );
            query
                .push("locked_until = NULL, run_at = ")
                .push_bind(now_ms)
                .push(", queued_at = ")
                .push_bind(now_ms)
                .push(", updated_at = ")
                .push_bind(now_ms)
                .push(" WHERE status = 'dead' AND id");
            push_id_list(&mut query, chunk);
            requeued += query.build().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(requeued)
    }

    pub async fn release_held(&self, now_ms: i64) -> Result<u64> {
        let mut write = self.writer.durable().await?;
        let mut tx = write.begin().await?;
        let released = sqlx::query(RELEASE_HELD)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(released)
    }

    pub async fn redeliver_event(
        &self,
        source: &str,
        event_id: &str,
        planned: &[NewJob],
        now_ms: i64,
    ) -> Result<Option<Redelivered>> {
        let mut write = self.writer.durable().await?;
        // Under the write lock from the start: a prune cannot delete the event
        // between this check and the jobs it gets.
        let mut tx = write.begin().await?;
        let Some(event_pk) =
            sqlx::query_scalar::<_, i64>("SELECT pk FROM events WHERE source = ? AND event_id = ?")
                .bind(source)
                .bind(event_id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(None);
        };
        // A job claimed right now keeps its lease; everything else goes again.
        let requeued = sqlx::query(
            "UPDATE jobs SET status = 'pending', attempt_base = attempts, dead_at = NULL,
                             run_at = ?1, queued_at = ?1, updated_at = ?1
             WHERE event_pk = ?2 AND NOT (status = 'pending' AND locked_until > ?1)",
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

    pub async fn purge_dead(&self, job_ids: &[i64]) -> Result<u64> {
        let mut write = self.writer.durable().await?;
        let mut tx = write.begin().await?;
        let mut purged = 0;
        for chunk in job_ids.chunks(ID_CHUNK) {
            let mut attempts = QueryBuilder::new(
                "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE status = 'dead' AND id",
            );
            push_id_list(&mut attempts, chunk);
            attempts.push(")");
            attempts.build().execute(&mut *tx).await?;
            let mut jobs = QueryBuilder::new("DELETE FROM jobs WHERE status = 'dead' AND id");
            push_id_list(&mut jobs, chunk);
            purged += jobs.build().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(purged)
    }

    pub async fn prune_delivered(&self, before_ms: i64) -> Result<Pruned> {
        // Events old enough, none of whose jobs still waits or lies dead. Deleting
        // their delivered jobs does not change which events qualify, so the three
        // statements see the same set.
        const PRUNABLE: &str = "SELECT e.pk FROM events e WHERE e.received_at < ?1
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_pk = e.pk AND j.status NOT IN ('delivered', 'skipped'))";
        let mut write = self.writer.durable().await?;
        let mut tx = write.begin().await?;
        let attempts = sqlx::query(&format!(
            "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE event_pk IN ({PRUNABLE}))"
        ))
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let jobs = sqlx::query(&format!("DELETE FROM jobs WHERE event_pk IN ({PRUNABLE})"))
            .bind(before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let events = sqlx::query(&format!("DELETE FROM events WHERE pk IN ({PRUNABLE})"))
            .bind(before_ms)
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
