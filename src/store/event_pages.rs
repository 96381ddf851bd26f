//! What `herald backfill` asks of the store: stored events page by page, and a
//! rule's jobs added to them, once each.
//!
//! Pages walk the primary key, so a long history is read a page of payloads at a
//! time and a page never shifts under the walk. Jobs go in under their
//! idempotency keys (unique in `jobs`), so adding a job an event already has is a
//! no-op, and a second backfill inserts nothing.

use std::collections::HashSet;

use herald_plugin_api::Event;

use super::error::Result;
use super::new_event::NewJob;
use super::rows::EventRow;
use super::sql::{Run, Sql};
use super::Store;

/// A stored event's row with when it arrived.
#[derive(sqlx::FromRow)]
struct PageRow {
    received_at: i64,
    #[sqlx(flatten)]
    event: EventRow,
}

/// One page of stored events: those after `after_pk`, received in
/// `[since_ms, until_ms)`, in pk order, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPage {
    /// Where the previous page ended (0 for the first).
    pub after_pk: i64,
    /// Received at or after this Unix millisecond.
    pub since_ms: Option<i64>,
    /// Received before this Unix millisecond.
    pub until_ms: Option<i64>,
    pub limit: usize,
}

/// A stored event with where it sits in the table and when it arrived.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Its row; the next page starts after the last of these.
    pub pk: i64,
    /// When herald received it (Unix ms).
    pub received_at_ms: i64,
    pub event: Event,
}

/// The jobs to add to one stored event.
#[derive(Debug, Clone)]
pub struct EventJobs {
    /// The event's row, as [`StoredEvent::pk`].
    pub event_pk: i64,
    pub jobs: Vec<NewJob>,
}

impl NewJob {
    /// The key the job is stored under.
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }
}

impl Store {
    /// A page of stored events, payloads included (see [`EventPage`]).
    ///
    /// # Errors
    /// On a database error, or when a stored event does not read back.
    pub async fn events_page(&self, page: &EventPage) -> Result<Vec<StoredEvent>> {
        let mut sql =
            Sql::new("SELECT pk, normalized, payload, received_at FROM events WHERE pk > $1")
                .bind(page.after_pk);
        if let Some(since) = page.since_ms {
            sql.push_bound(" AND received_at >= {}", since);
        }
        if let Some(until) = page.until_ms {
            sql.push_bound(" AND received_at < {}", until);
        }
        sql.push_bound(
            " ORDER BY pk LIMIT {}",
            i64::try_from(page.limit).unwrap_or(i64::MAX),
        );
        let rows: Vec<PageRow> = self.read().await?.fetch_all(&sql).await?;
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

    /// Which of `keys` some job already has.
    ///
    /// # Errors
    /// On a database error.
    pub async fn existing_keys(&self, keys: &[String]) -> Result<HashSet<String>> {
        let sql = Sql::new(format!(
            "SELECT idempotency_key FROM jobs WHERE idempotency_key {}",
            self.dialect().any(1)
        ))
        .bind(keys);
        let found: Vec<String> = self.read().await?.scalars(&sql).await?;
        Ok(found.into_iter().collect())
    }

    /// Adds each event's jobs, due at `now_ms`, in one transaction; a job whose
    /// key exists is skipped, and so is an event pruned meanwhile. Returns how
    /// many jobs each event got, in the order given.
    ///
    /// # Errors
    /// On a database error; nothing is added then.
    pub async fn add_jobs(&self, batch: &[EventJobs], now_ms: i64) -> Result<Vec<u64>> {
        let result = async {
            let mut write = self.durable().await?;
            let mut tx = write.begin().await?;
            let pks: Vec<i64> = batch.iter().map(|event| event.event_pk).collect();
            // Read under SQLite's write lock, or FOR SHARE on PostgreSQL: a
            // concurrent prune cannot delete an event while its jobs go in; one
            // pruned already is skipped.
            let stored = Sql::new(format!(
                "SELECT pk FROM events WHERE pk {} ORDER BY pk{}",
                tx.dialect().any(1),
                tx.dialect().for_share()
            ))
            .bind(pks.as_slice());
            let stored: HashSet<i64> = tx.scalars(&stored).await?.into_iter().collect();
            let mut added = Vec::with_capacity(batch.len());
            for event in batch {
                added.push(if stored.contains(&event.event_pk) {
                    tx.insert_jobs(event.event_pk, &event.jobs, now_ms).await?
                } else {
                    0
                });
            }
            tx.commit().await?;
            Ok(added)
        }
        .await;
        self.health.observe(&result);
        result
    }
}
