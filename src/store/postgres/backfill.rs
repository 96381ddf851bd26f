//! `herald backfill` on PostgreSQL (see [`crate::store::backfill`]).

use std::collections::HashSet;

use sqlx::{Postgres, QueryBuilder};

use super::{insert_jobs, PostgresStore};
use crate::store::backfill::{EventJobs, EventPage, StoredEvent};
use crate::store::error::Result;
use crate::store::rows::EventRow;

#[derive(sqlx::FromRow)]
struct PageRow {
    received_at: i64,
    #[sqlx(flatten)]
    event: EventRow,
}

impl PostgresStore {
    /// A page of stored events (see [`crate::store::Store::events_page`]).
    pub async fn events_page(&self, page: &EventPage) -> Result<Vec<StoredEvent>> {
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT pk, normalized, payload, received_at FROM events WHERE pk > ",
        );
        query.push_bind(page.after_pk);
        if let Some(since) = page.since_ms {
            query.push(" AND received_at >= ").push_bind(since);
        }
        if let Some(until) = page.until_ms {
            query.push(" AND received_at < ").push_bind(until);
        }
        query
            .push(" ORDER BY pk LIMIT ")
            .push_bind(i64::try_from(page.limit).unwrap_or(i64::MAX));
        let rows = query
            .build_query_as::<PageRow>()
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(StoredEvent {
                    pk: row.event.pk,
                    received_at_ms: row.received_at,
                    event: row.event.into_event()?,
                })
            })
            .collect()
    }

    /// Which keys exist (see [`crate::store::Store::existing_keys`]).
    pub async fn existing_keys(&self, keys: &[String]) -> Result<HashSet<String>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT idempotency_key FROM jobs WHERE idempotency_key = ANY($1)")
                .bind(keys)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Adds jobs to stored events (see [`crate::store::Store::add_jobs`]).
    pub async fn add_jobs(&self, batch: &[EventJobs], now_ms: i64) -> Result<Vec<u64>> {
        let mut tx = self.pool.begin().await?;
        let pks: Vec<i64> = batch.iter().map(|event| event.event_pk).collect();
        // FOR SHARE keeps a concurrent prune (FOR UPDATE on the event) from
        // deleting an event while its jobs go in; one pruned already is skipped.
        let stored: HashSet<i64> = sqlx::query_scalar::<_, i64>(
            "SELECT pk FROM events WHERE pk = ANY($1) ORDER BY pk FOR SHARE",
        )
        .bind(&pks)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let mut added = Vec::with_capacity(batch.len());
        for event in batch {
            added.push(if stored.contains(&event.event_pk) {
                insert_jobs(&mut tx, event.event_pk, &event.jobs, now_ms).await?
            } else {
                0
            });
        }
        tx.commit().await?;
        Ok(added)
    }
}
