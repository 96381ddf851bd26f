//! Thin events waiting for their object (see the `thin_events` migration): kept by
//! the receiver, taken by the fetcher, deleted once stored whole in `events`.

use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

/// A thin event waiting for its object.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WaitingThin {
    pub event_id: String,
    /// The body as received.
    pub body: String,
    /// When it was received (ms since the epoch).
    pub received_at: i64,
    /// Fetches tried so far.
    pub attempts: i32,
    pub last_error: Option<String>,
}

impl Store {
    /// Keeps thin event `event_id` of `source` until its object is fetched; `false`
    /// when it is kept already, or was stored whole (a redelivery).
    ///
    /// # Errors
    /// On a database error.
    pub async fn keep_thin(
        &self,
        source: &str,
        event_id: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let stored = self
            .stored_event_ids(source, &[event_id.to_owned()])
            .await?;
        if !stored.is_empty() {
            return Ok(false);
        }
        let sql = Sql::new(
            "INSERT INTO thin_events (source, event_id, body, received_at, due_at)
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (source, event_id) DO NOTHING",
        )
        .bind(source)
        .bind(event_id)
        .bind(body)
        .bind(now_ms);
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        let kept = tx.execute(&sql).await?;
        tx.commit().await?;
        Ok(kept == 1)
    }

    /// Up to `limit` thin events of `source` due at `now_ms`, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn due_thin(
        &self,
        source: &str,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<WaitingThin>> {
        let sql = Sql::new(
            "SELECT event_id, body, received_at, attempts, last_error FROM thin_events
             WHERE source = $1 AND due_at <= $2 ORDER BY due_at, received_at LIMIT $3",
        )
        .bind(source)
        .bind(now_ms)
        .bind(limit);
        self.read().await?.fetch_all(&sql).await
    }

    /// Every thin event of `source` still waiting, oldest first (at most 1,000).
    ///
    /// # Errors
    /// On a database error.
    pub async fn waiting_thin(&self, source: &str) -> Result<Vec<WaitingThin>> {
        self.due_thin(source, i64::MAX, 1_000).await
    }

    /// Thin event `event_id` was stored whole: it waits no more.
    ///
    /// # Errors
    /// On a database error.
    pub async fn thin_done(&self, source: &str, event_id: &str) -> Result<()> {
        let sql = Sql::new("DELETE FROM thin_events WHERE source = $1 AND event_id = $2")
            .bind(source)
            .bind(event_id);
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        tx.execute(&sql).await?;
        tx.commit().await
    }

    /// Fetching thin event `event_id`'s object failed with `error`: try again at
    /// `due_at_ms`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn thin_failed(
        &self,
        source: &str,
        event_id: &str,
        error: &str,
        due_at_ms: i64,
    ) -> Result<()> {
        let sql = Sql::new(
            "UPDATE thin_events SET attempts = attempts + 1, last_error = $3, due_at = $4
             WHERE source = $1 AND event_id = $2",
        )
        .bind(source)
        .bind(event_id)
        .bind(error)
        .bind(due_at_ms);
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        tx.execute(&sql).await?;
        tx.commit().await
    }
}
