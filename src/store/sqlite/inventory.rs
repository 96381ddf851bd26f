//! The stock ledger on SQLite.
//!
//! An adjustment is netted per SKU and every new level worked out with checked
//! arithmetic inside the one write transaction; an overflow returns before the commit,
//! so the transaction rolls back and nothing of the adjustment stays. The `CHECK`s of
//! migration `20261202000059` refuse a non-integer level as a second line.

use herald_plugin_inventory::ledger::{checked_level, net_moves, StockMove};
use sqlx::Row;

use super::SqliteStore;
use crate::store::error::Result;

impl SqliteStore {
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
        let mut write = self.writer.durable().await?;
        let mut tx = write.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO stock_applied (key, event_id, applied_at) VALUES (?, ?, ?)
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
            let level: Option<i64> =
                sqlx::query_scalar("SELECT quantity FROM stock_levels WHERE sku = ?")
                    .bind(sku)
                    .fetch_optional(&mut *tx)
                    .await?;
            let level = checked_level(sku, level.unwrap_or_default(), *delta)?;
            sqlx::query("INSERT INTO stock_moves (key, sku, delta) VALUES (?, ?, ?)")
                .bind(key)
                .bind(sku)
                .bind(delta)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO stock_levels (sku, quantity, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sku) DO UPDATE SET quantity = ?2, updated_at = ?3",
            )
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
            "SELECT sku, quantity FROM stock_levels WHERE ?1 IS NULL OR sku = ?1 ORDER BY sku",
        )
        .bind(sku)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("sku")?, row.try_get("quantity")?)))
            .collect()
    }
}
