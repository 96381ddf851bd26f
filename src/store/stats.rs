//! How many jobs wait, by plugin instance and state: what the queue gauges at
//! `/metrics` show. Read at scrape time (see docs/decisions/0097), walking only
//! the partial indexes of pending jobs and dead letters, never delivered jobs.

use std::collections::BTreeMap;

use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

/// Pending jobs by plugin instance and state at `$1`, as a claim sees them. It
/// walks only the partial index of pending jobs (`{indexed}` names it to SQLite's
/// planner), where a table scan would read every delivered job too.
const PENDING_SQL: &str = "SELECT plugin,
        COUNT(*) FILTER (WHERE locked_until > $1) AS leased,
        COUNT(*) FILTER (WHERE (locked_until IS NULL OR locked_until <= $1) AND run_at <= $1) AS due,
        COUNT(*) FILTER (WHERE (locked_until IS NULL OR locked_until <= $1) AND run_at > $1) AS retrying,
        MIN(run_at) FILTER (WHERE (locked_until IS NULL OR locked_until <= $1) AND run_at <= $1)
            AS oldest_due
     FROM jobs{indexed} WHERE status = 'pending' GROUP BY plugin";

/// Dead letters by plugin instance, from their partial index.
const DEAD_SQL: &str =
    "SELECT plugin, COUNT(*) FROM jobs{indexed} WHERE status = 'dead' GROUP BY plugin";

/// One plugin instance's jobs in the queue, across every replica.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub plugin: String,
    /// Pending, due now, and not leased.
    pub due: i64,
    /// Pending, due later: waiting for a retry, or for an open breaker.
    pub retrying: i64,
    /// Being delivered: leased by a worker.
    pub leased: i64,
    /// When the longest-waiting due job became due (Unix ms).
    pub oldest_due_at_ms: Option<i64>,
    /// Dead letters.
    pub dead: i64,
}

/// One plugin instance's pending jobs, as the backends count them.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct PendingRow {
    pub plugin: String,
    pub due: i64,
    pub retrying: i64,
    pub leased: i64,
    pub oldest_due: Option<i64>,
}

/// The pending counts and the dead-letter counts, one entry per plugin instance.
pub(super) fn merge(pending: Vec<PendingRow>, dead: Vec<(String, i64)>) -> Vec<QueueDepth> {
    let mut by_plugin: BTreeMap<String, QueueDepth> = BTreeMap::new();
    for row in pending {
        let depth = by_plugin.entry(row.plugin.clone()).or_default();
        depth.plugin = row.plugin;
        depth.due = row.due;
        depth.retrying = row.retrying;
        depth.leased = row.leased;
        depth.oldest_due_at_ms = row.oldest_due;
    }
    for (plugin, count) in dead {
        let depth = by_plugin.entry(plugin.clone()).or_default();
        depth.plugin = plugin;
        depth.dead = count;
    }
    by_plugin.into_values().collect()
}

impl Store {
    /// The queue as it stands at `now_ms`, by plugin instance; instances with
    /// no pending job and no dead letter are left out.
    ///
    /// # Errors
    /// On a database error.
    pub async fn queue_depth(&self, now_ms: i64) -> Result<Vec<QueueDepth>> {
        let dialect = self.dialect();
        let mut read = self.read().await?;
        let pending = PENDING_SQL.replace("{indexed}", &dialect.indexed_by("jobs_due"));
        let pending: Vec<PendingRow> = read.fetch_all(&Sql::new(pending).bind(now_ms)).await?;
        let dead = DEAD_SQL.replace("{indexed}", &dialect.indexed_by("jobs_dead"));
        let dead: Vec<(String, i64)> = read.fetch_all(&Sql::new(dead)).await?;
        Ok(merge(pending, dead))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_and_dead_counts_meet_by_plugin() {
        let pending = vec![PendingRow {
            plugin: "mail".to_owned(),
            due: 2,
            retrying: 1,
            leased: 3,
            oldest_due: Some(7),
        }];
        let dead = vec![("hook".to_owned(), 4), ("mail".to_owned(), 5)];
        let merged = merge(pending, dead);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            (merged[0].plugin.as_str(), merged[0].dead, merged[0].due),
            ("hook", 4, 0)
        );
        assert_eq!(
            (
                merged[1].due,
                merged[1].retrying,
                merged[1].leased,
                merged[1].oldest_due_at_ms,
                merged[1].dead
            ),
            (2, 1, 3, Some(7), 5)
        );
    }
}
