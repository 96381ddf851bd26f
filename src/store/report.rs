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

/// A balance transaction's fee and net, in its currency's minor units.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BalanceFee {
    pub txn: String,
    pub currency: String,
    pub fee: i64,
    pub net: i64,
}

impl Store {
    /// The fees known for `txns` of `source`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn balance_fees(&self, source: &str, txns: &[String]) -> Result<Vec<BalanceFee>> {
        if txns.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT txn, currency, fee, net FROM balance_fees WHERE source = ");
        sql.push_bound("{}", source);
        sql.push(" AND txn IN (");
        for (i, txn) in txns.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push_bound("{}", txn.as_str());
        }
        sql.push(")");
        self.read().await?.fetch_all(&sql).await
    }

    /// Keeps `fee` of `source`, fetched from Stripe.
    ///
    /// # Errors
    /// On a database error.
    pub async fn keep_balance_fee(&self, source: &str, fee: &BalanceFee) -> Result<()> {
        let sql = Sql::new(
            "INSERT INTO balance_fees (source, txn, currency, fee, net) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (source, txn) DO NOTHING",
        )
        .bind(source)
        .bind(fee.txn.as_str())
        .bind(fee.currency.as_str())
        .bind(fee.fee)
        .bind(fee.net);
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        tx.execute(&sql).await?;
        tx.commit().await
    }
}

impl Store {
    /// How many events of each type were created in `[from, to)` (Unix seconds),
    /// herald's own left out; most frequent first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn count_kinds(&self, from: i64, to: i64) -> Result<Vec<(String, i64)>> {
        let mut sql = Sql::new("SELECT kind, COUNT(*) FROM events WHERE source <> 'herald'");
        sql.push_bound(" AND created >= {}", from);
        sql.push_bound(" AND created < {}", to);
        sql.push(" GROUP BY kind ORDER BY COUNT(*) DESC, kind");
        self.read().await?.fetch_all(&sql).await
    }
}
