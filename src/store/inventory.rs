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
    checked_level, net_moves, order_moves, outstanding, LedgerError, Moved, OrderApplied,
    OrderLines, OrderStockFact, StockLedger, StockMove,
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
    move_levels(tx, key, &moves, now).await?;
    Ok(true)
}

/// Moves each SKU's level by its (netted, sorted) move, logged under `key`.
async fn move_levels(
    tx: &mut Tx<'_>,
    key: &str,
    moves: &[StockMove],
    now: i64,
) -> Result<Vec<Moved>> {
    let lock = tx.dialect().for_update();
    let mut moved = Vec::with_capacity(moves.len());
    for StockMove { sku, delta } in moves {
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
        let logged =
            Sql::new("INSERT INTO stock_moves (key, sku, delta, level) VALUES ($1, $2, $3, $4)")
                .bind(key)
                .bind(sku)
                .bind(*delta)
                .bind(level);
        tx.execute(&logged).await?;
        let set = Sql::new("UPDATE stock_levels SET quantity = $2, updated_at = $3 WHERE sku = $1")
            .bind(sku)
            .bind(level)
            .bind(now);
        tx.execute(&set).await?;
        moved.push(Moved {
            sku: sku.clone(),
            delta: *delta,
            level,
        });
    }
    Ok(moved)
}

/// A stored order-stock fact's columns.
#[derive(Debug, sqlx::FromRow)]
struct OrderStockRow {
    key: String,
    sku: String,
    quantity: i64,
}

/// Records `lines` against `order_id` unless their key was recorded, and moves the
/// levels by what the order's holding changed.
async fn apply_order_lines(
    tx: &mut Tx<'_>,
    order_id: &str,
    job_key: &str,
    event_id: &str,
    lines: &OrderLines,
) -> Result<OrderApplied> {
    let now = crate::clock::now_ms();
    tx.lock(&format!("stock:{order_id}")).await?;
    let lines_netted = net_moves(lines.lines())?;
    // The marker (an empty SKU) goes first: it finds a repeat, and on SQLite takes the
    // write lock before anything is read.
    let insert = "INSERT INTO order_stock (order_id, key, sku, quantity, event_id, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id, key, sku) DO NOTHING";
    let marker = Sql::new(insert)
        .bind(order_id)
        .bind(lines.key())
        .bind("")
        .bind(0_i64)
        .bind(event_id)
        .bind(now);
    if tx.execute(&marker).await? != 1 {
        let by = Sql::new(
            "SELECT event_id FROM order_stock WHERE order_id = $1 AND key = $2 AND sku = ''",
        )
        .bind(order_id)
        .bind(lines.key());
        let by: Option<String> = tx.scalar(&by).await?;
        return Ok(OrderApplied::Already {
            by: by.unwrap_or_default(),
        });
    }
    let read =
        Sql::new("SELECT key, sku, quantity FROM order_stock WHERE order_id = $1").bind(order_id);
    let rows: Vec<OrderStockRow> = tx.fetch_all(&read).await?;
    // The marker just written is this key's; every other row came before.
    let before: Vec<OrderStockFact> = rows
        .into_iter()
        .filter(|row| row.key != lines.key())
        .map(|row| OrderStockFact {
            key: row.key,
            sku: row.sku,
            quantity: row.quantity,
        })
        .collect();
    let mut after = before.clone();
    after.push(OrderStockFact {
        key: lines.key().to_owned(),
        sku: String::new(),
        quantity: 0,
    });
    for line in &lines_netted {
        let row = Sql::new(insert)
            .bind(order_id)
            .bind(lines.key())
            .bind(&line.sku)
            .bind(line.delta)
            .bind(event_id)
            .bind(now);
        tx.execute(&row).await?;
        after.push(OrderStockFact {
            key: lines.key().to_owned(),
            sku: line.sku.clone(),
            quantity: line.delta,
        });
    }
    let moves = order_moves(&outstanding(&before), &outstanding(&after));
    move_levels(tx, job_key, &moves, now)
        .await
        .map(OrderApplied::Moved)
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
        result.map_err(ledger_error)
    }

    async fn apply_to_order(
        &self,
        order_id: &str,
        job_key: &str,
        event_id: &str,
        lines: &OrderLines,
    ) -> std::result::Result<OrderApplied, LedgerError> {
        let result = async {
            let mut write = self.durable().await?;
            let mut tx = write.begin().await?;
            let applied = apply_order_lines(&mut tx, order_id, job_key, event_id, lines).await?;
            if matches!(applied, OrderApplied::Moved(_)) {
                tx.commit().await?;
            }
            Ok(applied)
        }
        .await;
        self.health.observe(&result);
        result.map_err(ledger_error)
    }

    async fn moved_by(&self, job_key: &str) -> std::result::Result<Vec<Moved>, LedgerError> {
        #[derive(sqlx::FromRow)]
        struct MoveRow {
            sku: String,
            delta: i64,
            level: Option<i64>,
        }
        let sql = Sql::new(
            "SELECT sku, delta, level FROM stock_moves WHERE key = $1 AND level IS NOT NULL ORDER BY sku",
        )
        .bind(job_key);
        let rows: Vec<MoveRow> = async { self.read().await?.fetch_all(&sql).await }
            .await
            .map_err(ledger_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(Moved {
                    sku: row.sku,
                    delta: row.delta,
                    level: row.level?,
                })
            })
            .collect())
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

fn ledger_error(err: StoreError) -> LedgerError {
    match err {
        StoreError::StockOverflow(overflow) => LedgerError::Overflow(overflow),
        other => LedgerError::Unavailable(other.to_string()),
    }
}
