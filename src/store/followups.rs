//! What follow-ups read: the events marked under a key (an object id, `order:…`,
//! `customer:…`, a subscription id), to see whether an `unless` event came, and the
//! follow-ups still waiting, for `herald followups`.

use herald_plugin_api::Event;

use super::error::Result;
use super::rows::EventRow;
use super::sql::{Run, Sql};
use super::Store;

/// Most events read about one key: more than any follow-up's key gathers.
const MOST_EVENTS: i64 = 500;

/// A follow-up job still waiting for its deadline.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct PendingFollowUp {
    pub job_id: i64,
    /// The follow-up's name.
    pub rule: String,
    pub plugin: String,
    pub source: String,
    /// The event that started it.
    pub event_id: String,
    pub event_type: String,
    pub object_id: Option<String>,
    pub order_id: Option<String>,
    /// When it is due (ms since the epoch).
    pub due_at_ms: i64,
}

impl Store {
    /// The events of `source` marked under `key` (see `unless_marks`) created at or
    /// after `since` (Unix seconds), oldest first.
    ///
    /// # Errors
    /// On a database error, or a stored event that does not read back.
    pub async fn unless_events(&self, source: &str, key: &str, since: i64) -> Result<Vec<Event>> {
        let sql = Sql::new(
            "SELECT e.pk, e.normalized, e.payload
             FROM unless_marks m JOIN events e ON e.source = m.source AND e.event_id = m.event_id
             WHERE m.source = $1 AND m.key = $2 AND e.created >= $3
             ORDER BY e.created, e.pk LIMIT $4",
        )
        .bind(source)
        .bind(key)
        .bind(since)
        .bind(MOST_EVENTS);
        let rows: Vec<EventRow> = self.read().await?.fetch_all(&sql).await?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// The jobs of the follow-ups named `names` still waiting, soonest first (at
    /// most `limit`).
    ///
    /// # Errors
    /// On a database error.
    pub async fn pending_followups(
        &self,
        names: &[&str],
        limit: i64,
    ) -> Result<Vec<PendingFollowUp>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT j.id AS job_id, j.rule, j.plugin, e.source, e.event_id,
                    e.kind AS event_type, e.object_id, e.order_id, j.run_at AS due_at_ms
             FROM jobs j JOIN events e ON e.pk = j.event_pk
             WHERE j.status = 'pending' AND j.rule IN (",
        );
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push_bound("{}", *name);
        }
        sql.push_bound(") ORDER BY j.run_at, j.id LIMIT {}", limit);
        self.read().await?.fetch_all(&sql).await
    }
}
