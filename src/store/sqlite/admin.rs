//! What an operator does to the SQLite store: list, replay and purge dead letters,
//! re-deliver events, prune what is done.

use sqlx::{QueryBuilder, Row, Sqlite};

use super::{insert_jobs, job_summary, SqliteStore, JOB_SUMMARY_SELECT};
use crate::rules::Rules;
use crate::store::error::Result;
use crate::store::new_event::NewJob;
use crate::store::{JobFilter, JobSummary, Pruned, Redelivered};

/// How many ids go into one `IN (…)` list: well under SQLite's bound-parameter limit.
const ID_CHUNK: usize = 500;

/// Appends `filter` as `AND …` clauses over `j` (jobs) and `e` (events).
fn push_filter(query: &mut QueryBuilder<'_, Sqlite>, filter: &JobFilter) {
    if !filter.job_ids.is_empty() {
        query.push(" AND j.id");
        push_id_list(query, &filter.job_ids);
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

/// `UPDATE … WHERE id IN (chunk)`-style statements over many ids, chunked.
async fn for_each_chunk<F>(store: &SqliteStore, ids: &[i64], mut build: F) -> Result<u64>
where
    F: FnMut(&mut QueryBuilder<'_, Sqlite>),
{
    let mut affected = 0;
    for chunk in ids.chunks(ID_CHUNK) {
        let mut query = QueryBuilder::new("");
        build(&mut query);
        push_id_list(&mut query, chunk);
        affected += query.build().execute(&store.writer).await?.rows_affected();
    }
    store.wal.sync().await?;
    Ok(affected)
}

impl SqliteStore {
    pub async fn job(&self, job_id: i64) -> Result<Option<JobSummary>> {
        let sql = format!("{JOB_SUMMARY_SELECT} WHERE j.id = ?");
        let row = sqlx::query(&sql)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_summary).transpose()
    }

    pub async fn dead_letters(&self, filter: &JobFilter, limit: usize) -> Result<Vec<JobSummary>> {
        let rows = dead_letters_query(filter, limit)
            .build()
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_summary).collect()
    }

    pub async fn requeue(&self, job_ids: &[i64], now_ms: i64) -> Result<u64> {
        for_each_chunk(self, job_ids, |query| {
            query
                .push(
                    "UPDATE jobs SET status = 'pending', attempt_base = attempts, dead_at = NULL, ",
                )
                .push("locked_until = NULL, run_at = ")
                .push_bind(now_ms)
                .push(", queued_at = ")
                .push_bind(now_ms)
                .push(", updated_at = ")
                .push_bind(now_ms)
                .push(" WHERE status = 'dead' AND id");
        })
        .await
    }

    pub async fn redeliver_event(
        &self,
        source: &str,
        event_id: &str,
        rules: &Rules,
        now_ms: i64,
    ) -> Result<Option<Redelivered>> {
        let Some(row) = sqlx::query("SELECT pk FROM events WHERE source = ? AND event_id = ?")
            .bind(source)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let event_pk: i64 = row.try_get("pk")?;
        let event = self.load_event(event_pk).await?;
        let planned = rules.plan(&event);
        let mut tx = self.writer.begin().await?;
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
        let planned: Vec<NewJob> = planned.iter().map(NewJob::from).collect();
        let added = insert_jobs(&mut tx, event_pk, &planned, now_ms).await?;
        tx.commit().await?;
        self.wal.sync().await?;
        Ok(Some(Redelivered { requeued, added }))
    }

    pub async fn purge_dead(&self, job_ids: &[i64]) -> Result<u64> {
        let mut tx = self.writer.begin().await?;
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
        self.wal.sync().await?;
        Ok(purged)
    }

    pub async fn prune_delivered(&self, before_ms: i64) -> Result<Pruned> {
        // Events old enough, none of whose jobs still waits or lies dead. Deleting
        // their delivered jobs does not change which events qualify, so the three
        // statements see the same set.
        const PRUNABLE: &str = "SELECT e.pk FROM events e WHERE e.received_at < ?1
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_pk = e.pk AND j.status != 'delivered')";
        let mut tx = self.writer.begin().await?;
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
        self.wal.sync().await?;
        Ok(Pruned {
            events,
            jobs,
            attempts,
        })
    }
}
