//! The stock ledger on PostgreSQL: the key's primary key makes a second replica
//! applying the same job wait for the first and then find it applied.

use herald_plugin_inventory::ledger::StockMove;
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
        for StockMove { sku, delta } in moves {
            sqlx::query(
                "INSERT INTO stock_moves (key, sku, delta) VALUES ($1, $2, $3)
                 ON CONFLICT (key, sku) DO UPDATE SET delta = stock_moves.delta + $3",
            )
            .bind(key)
            .bind(sku)
            .bind(delta)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO stock_levels (sku, quantity, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (sku) DO UPDATE SET quantity = stock_levels.quantity + $2, updated_at = $3",
            )
            .bind(sku)
            .bind(delta)
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
