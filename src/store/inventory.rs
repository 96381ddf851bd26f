//! The stock ledger: herald's database as the inventory plugin's ledger.
//!
//! An adjustment is netted per SKU. Each SKU's row is made to exist and then
//! locked (`FOR UPDATE` on PostgreSQL; SQLite's writer holds the whole file)
//! before its new level is worked out with checked arithmetic, so two replicas
//! moving the same SKU queue up, and an overflow is found before any write of the
//! adjustment commits: returning early drops the transaction, which rolls it back.
//! The `CHECK`s of migration `20261202000059` refuse a non-integer level as a
//! second line. The key's primary key makes a second replica applying the same
//! job wait for the first and then find it applied.

use herald_plugin_inventory::ledger::{
    checked_level, net_moves, LedgerError, StockLedger, StockMove,
};

use super::error::{Result, StoreError};
use super::sql::{Run, Sql, Tx};
use super::Store;

/// Applies `moves` under `key` once; `false` when `key` was applied before.
async fn apply_moves(
    tx: &mut Tx<'_>,
    key: &str,
    event_id: &str,
    moves: &[StockMove],
) -> Result<bool> {
    let mut moves = net_moves(moves)?;
    // One order of SKUs for every adjustment, so two never wait on each other's rows.
    moves.sort_by(|a, b| a.sku.cmp(&b.sku));
    let now = crate::clock::now_ms();
    let applied = Sql::new(
        "INSERT INTO stock_applied (key, event_id, applied_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(event_id)
    .bind(now);
    if tx.execute(&applied).await? != 1 {
        return Ok(false);
    }
    let lock = tx.dialect().for_update();
    for StockMove { sku, delta } in &moves {
        let row = Sql::new(
            "INSERT INTO stock_levels (sku, quantity, updated_at) VALUES ($1, 0, $2)
             ON CONFLICT (sku) DO NOTHING",
        )
        .bind(sku)
        .bind(now);
        tx.execute(&row).await?;
        let read = Sql::new(format!(
            "SELECT quantity FROM stock_levels WHERE sku = $1{lock}"
        ))
        .bind(sku);
        let level: i64 = tx.scalar(&read).await?.unwrap_or_default();
        let level = checked_level(sku, level, *delta)?;
        let logged = Sql::new("INSERT INTO stock_moves (key, sku, delta) VALUES ($1, $2, $3)")
            .bind(key)
            .bind(sku)
            .bind(*delta);
        tx.execute(&logged).await?;
        let set = Sql::new("UPDATE stock_levels SET quantity = $2, updated_at = $3 WHERE sku = $1")
            .bind(sku)
            .bind(level)
            .bind(now);
        tx.execute(&set).await?;
    }
    Ok(true)
}

/// herald's database is the inventory plugin's stock ledger, on either backend.
#[herald_plugin_api::async_trait]
impl StockLedger for Store {
    async fn apply(
        &self,
        key: &str,
        event_id: &str,
        moves: &[StockMove],
    ) -> std::result::Result<bool, LedgerError> {
        let result = async {
            let mut write = self.durable().await?;
            let mut tx = write.begin().await?;
            let fresh = apply_moves(&mut tx, key, event_id, moves).await?;
            if fresh {
                tx.commit().await?;
            }
            Ok(fresh)
        }
        .await;
        self.health.observe(&result);
        result.map_err(|err| match err {
            StoreError::StockOverflow(overflow) => LedgerError::Overflow(overflow),
            other => LedgerError::Unavailable(other.to_string()),
        })
    }

    async fn levels(
        &self,
        sku: Option<&str>,
    ) -> std::result::Result<Vec<(String, i64)>, LedgerError> {
        let sql = Sql::new(
            "SELECT sku, quantity FROM stock_levels
             WHERE CAST($1 AS TEXT) IS NULL OR sku = $1 ORDER BY sku",
        )
        .bind(sku);
        async { self.read().await?.fetch_all(&sql).await }
            .await
            .map_err(|err: StoreError| LedgerError::Unavailable(err.to_string()))
    }
}
