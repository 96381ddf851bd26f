//! `herald backfill` on SQLite (see [`crate::store::backfill`]).

use std::collections::HashSet;

use sqlx::{QueryBuilder, Sqlite};

use super::{insert_jobs, SqliteStore};
use crate::store::backfill::{EventJobs, EventPage, StoredEvent};
use crate::store::error::Result;
use crate::store::rows::EventRow;

/// How many keys go into one `IN (…)` list: well under SQLite's bound-parameter limit.
const KEY_CHUNK: usize = 500;

#[derive(sqlx::FromRow)]
struct PageRow {
    received_at: i64,
    #[sqlx(flatten)]
    event: EventRow,
}

impl SqliteStore {
    pub async fn events_page(&self, page: &EventPage) -> Result<Vec<StoredEvent>> {
        let mut query = QueryBuilder::<Sqlite>::new(
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

    pub async fn existing_keys(&self, keys: &[String]) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        for chunk in keys.chunks(KEY_CHUNK) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "SELECT idempotency_key FROM jobs WHERE idempotency_key IN (",
            );
            let mut list = query.separated(", ");
            for key in chunk {
                list.push_bind(key.clone());
            }
            query.push(")");
            let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.pool).await?;
            found.extend(rows);
        }
        Ok(found)
    }

    pub async fn add_jobs(&self, batch: &[EventJobs], now_ms: i64) -> Result<Vec<u64>> {
        let mut write = self.writer.durable().await?;
        let mut tx = write.begin().await?;
        let mut added = Vec::with_capacity(batch.len());
        for event in batch {
            // Checked under the write lock: a prune cannot delete the event before
            // its jobs are in.
            let stored: Option<i64> = sqlx::query_scalar("SELECT pk FROM events WHERE pk = ?")
                .bind(event.event_pk)
                .fetch_optional(&mut *tx)
                .await?;
            added.push(match stored {
                Some(pk) => insert_jobs(&mut tx, pk, &event.jobs, now_ms).await?,
                None => 0,
            });
        }
        tx.commit().await?;
        Ok(added)
    }
}
