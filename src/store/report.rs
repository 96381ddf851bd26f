//! What the accountant's report reads: the stored events of some types created in a
//! window.

use herald_plugin_api::Event;

use super::error::Result;
use super::rows::EventRow;
use super::sql::{Run, Sql};
use super::Store;

impl Store {
    /// The events of `source` of the types `kinds` created in `[from, to)` (Unix
    /// seconds), oldest first. Reads every event of the source: no index serves
    /// `created`, and a report is run now and then, not per event.
    ///
    /// # Errors
    /// On a database error, or a stored event that does not read back.
    pub async fn events_created(
        &self,
        source: &str,
        kinds: &[&str],
        from: i64,
        to: i64,
    ) -> Result<Vec<Event>> {
        let mut sql = Sql::new("SELECT pk, normalized, payload FROM events WHERE source = ");
        sql.push_bound("{}", source);
        sql.push_bound(" AND created >= {}", from);
        sql.push_bound(" AND created < {} AND kind IN (", to);
        for (i, kind) in kinds.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push_bound("{}", *kind);
        }
        sql.push(") ORDER BY created, pk");
        let rows: Vec<EventRow> = self.read().await?.fetch_all(&sql).await?;
        rows.into_iter().map(EventRow::into_event).collect()
    }
}
