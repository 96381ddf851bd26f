//! herald's own alerts (see the `alerts` migration): the dead letters grouped by rule
//! and plugin, and the problems open now.

use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

/// The dead letters of one rule and plugin.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadGroup {
    pub rule: String,
    pub plugin: String,
    pub count: i64,
    /// The latest dead letter's error and event.
    pub last_error: Option<String>,
    pub event_id: String,
}

/// A problem open now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenAlert {
    pub key: String,
    pub opened_at: i64,
    pub count: i64,
}

impl Store {
    /// The dead letters, grouped by rule and plugin, but those of herald's alerts
    /// (`crate::alerts::ALERT_TYPES`): an alert's failure raises no alert. A digest's
    /// or a stock alert's failure does.
    ///
    /// # Errors
    /// On a database error.
    pub async fn dead_groups(&self) -> Result<Vec<DeadGroup>> {
        let mut sql = Sql::new(
            "SELECT j.rule, j.plugin, g.count, j.last_error, e.event_id
             FROM (SELECT j.rule, j.plugin, COUNT(*) AS count, MAX(j.id) AS last
                   FROM jobs j JOIN events e ON e.pk = j.event_pk
                   WHERE j.status = 'dead' AND NOT (e.source = 'herald' AND e.kind IN (",
        );
        for (i, kind) in crate::alerts::ALERT_TYPES.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push_bound("{}", *kind);
        }
        sql.push(
            "))
                   GROUP BY j.rule, j.plugin) g
             JOIN jobs j ON j.id = g.last
             JOIN events e ON e.pk = j.event_pk
             ORDER BY j.rule, j.plugin",
        );
        self.read().await?.fetch_all(&sql).await
    }

    /// The problems open now whose key starts with `prefix`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn open_alerts(&self, prefix: &str) -> Result<Vec<OpenAlert>> {
        let sql = Sql::new(
            "SELECT key, opened_at, count FROM alerts
             WHERE closed_at IS NULL AND key LIKE $1 ORDER BY key",
        )
        .bind(format!("{prefix}%"));
        self.read().await?.fetch_all(&sql).await
    }

    /// Opens problem `key` at `now_ms` with `count`, or, when open, sets its count;
    /// closes it with `count` 0.
    ///
    /// # Errors
    /// On a database error.
    pub async fn set_alert(&self, alert: &OpenAlert, now_ms: i64, open: bool) -> Result<()> {
        let sql = if open {
            Sql::new(
                "INSERT INTO alerts (key, opened_at, count) VALUES ($1, $2, $3)
                 ON CONFLICT (key, opened_at) DO UPDATE SET count = excluded.count",
            )
            .bind(alert.key.as_str())
            .bind(alert.opened_at)
            .bind(alert.count)
        } else {
            Sql::new("UPDATE alerts SET closed_at = $3 WHERE key = $1 AND opened_at = $2")
                .bind(alert.key.as_str())
                .bind(alert.opened_at)
                .bind(now_ms)
        };
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        tx.execute(&sql).await?;
        tx.commit().await
    }
}
