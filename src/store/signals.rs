//! The `alert_signals` table: what each replica saw, per minute, for herald's own
//! alerts to add up across replicas (see `crate::alerts::signals`).

use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

impl Store {
    /// Adds `count` to what this instance saw of `kind` about `subject` in `minute`
    /// (minutes since the epoch); `replace` sets it instead (a state seen, not a tally).
    ///
    /// # Errors
    /// On a database error.
    pub async fn add_signal(
        &self,
        (kind, subject): (&str, &str),
        minute: i64,
        count: i64,
        replace: bool,
    ) -> Result<()> {
        let update = if replace {
            "excluded.count"
        } else {
            "alert_signals.count + excluded.count"
        };
        let sql = Sql::new(format!(
            "INSERT INTO alert_signals (instance, kind, subject, minute, count)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, subject, minute, instance) DO UPDATE SET count = {update}"
        ))
        .bind(&*self.instance)
        .bind(kind)
        .bind(subject)
        .bind(minute)
        .bind(count);
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        tx.execute(&sql).await?;
        tx.commit().await
    }

    /// What all instances saw of `kind` from `since_minute` on, summed per subject.
    ///
    /// # Errors
    /// On a database error.
    pub async fn signal_sums(&self, kind: &str, since_minute: i64) -> Result<Vec<(String, i64)>> {
        let sql = Sql::new(
            "SELECT subject, CAST(SUM(count) AS BIGINT) FROM alert_signals
             WHERE kind = $1 AND minute >= $2 GROUP BY subject ORDER BY subject",
        )
        .bind(kind)
        .bind(since_minute);
        self.read().await?.fetch_all(&sql).await
    }

    /// Forgets what was seen before `minute`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn prune_signals(&self, minute: i64) -> Result<()> {
        let sql = Sql::new("DELETE FROM alert_signals WHERE minute < $1").bind(minute);
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        tx.execute(&sql).await?;
        tx.commit().await
    }
}
