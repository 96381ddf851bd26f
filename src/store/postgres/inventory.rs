//! The stock ledger on PostgreSQL: the key's primary key makes a second replica
//! applying the same job wait for the first and then find it applied.
//!
//! Each SKU's row is made to exist and then locked (`FOR UPDATE`) before its new level
//! is worked out with checked arithmetic, so two replicas moving the same SKU queue up
//! and an overflow is found before any write of the adjustment commits: returning
//! early drops the transaction, which rolls it back.

use herald_plugin_inventory::ledger::{checked_level, net_moves, StockMove};
use sqlx::Row;

use super::PostgresStore;
use crate::store::error::Result;

impl PostgresStore {
    pub async fn apply_stock_moves(
        &self,
        key: &str,
        event_id: &str,
        moves: &[StockMove],
    ) -> Result<bool> {
        let mut moves = net_moves(moves)?;
        // One order of SKUs for every adjustment, so two never wait on each other's rows.
        moves.sort_by(|a, b| a.sku.cmp(&b.sku));
        let now = crate::clock::now_ms();
        let mut tx = self.pool.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO stock_applied (key, event_id, applied_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(event_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            return Ok(false);
        }
        for StockMove { sku, delta } in &moves {
            sqlx::query(
                "INSERT INTO stock_levels (sku, quantity, updated_at) VALUES ($1, 0, $2)
                 ON CONFLICT (sku) DO NOTHING",
            )
            .bind(sku)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let level: i64 =
                sqlx::query_scalar("SELECT quantity FROM stock_levels WHERE sku = $1 FOR UPDATE")
                    .bind(sku)
                    .fetch_one(&mut *tx)
                    .await?;
            let level = checked_level(sku, level, *delta)?;
            sqlx::query("INSERT INTO stock_moves (key, sku, delta) VALUES ($1, $2, $3)")
                .bind(key)
                .bind(sku)
                .bind(delta)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE stock_levels SET quantity = $2, updated_at = $3 WHERE sku = $1")
                .bind(sku)
                .bind(level)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn stock_levels(&self, sku: Option<&str>) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT sku, quantity FROM stock_levels WHERE $1::TEXT IS NULL OR sku = $1 ORDER BY sku",
        )
        .bind(sku)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("sku")?, row.try_get("quantity")?)))
            .collect()
    }
}
