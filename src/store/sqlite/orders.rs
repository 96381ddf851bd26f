//! The orders ledger on SQLite: one write transaction per fact, so SQLite's single
//! writer serializes concurrent facts of one order.

use herald_plugin_orders::ledger::{Fact, Fold, OrderState};

use super::SqliteStore;
use crate::store::error::Result;
use crate::store::rows::EventRow;
use herald_plugin_api::Event;

use crate::store::orders::{to_text, FactRow, StateRow, ORDER_EVENTS_MAX};

/// An order's facts, oldest first.
const FACTS_SQL: &str = "SELECT event_id, event_type, created, signal, amount FROM order_facts
     WHERE order_id = ? ORDER BY created, event_id";

impl SqliteStore {
    pub async fn apply_order_fact(
        &self,
        order_id: &str,
        fact: &Fact,
        fold: &Fold,
    ) -> Result<Option<OrderState>> {
        let now = crate::clock::now_ms();
        let mut write = self.writer.durable().await?;
        let mut tx = write.begin().await?;
        // The INSERT comes first so the transaction holds the write lock before it reads.
        sqlx::query(
            "INSERT INTO order_facts (order_id, event_id, event_type, created, signal, amount, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (order_id, event_id) DO NOTHING",
        )
        .bind(order_id)
        .bind(&fact.event_id)
        .bind(&fact.event_type)
        .bind(fact.created)
        .bind(to_text(&fact.signal)?)
        .bind(fact.amount)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query_as::<_, FactRow>(FACTS_SQL)
            .bind(order_id)
            .fetch_all(&mut *tx)
            .await?;
        let facts = rows
            .into_iter()
            .map(FactRow::into_fact)
            .collect::<Result<Vec<Fact>>>()?;
        let state = fold(order_id, &facts);
        if let Some(state) = &state {
            sqlx::query(
                "INSERT INTO orders (order_id, status, decided_by, decided_at, facts, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (order_id) DO UPDATE SET status = ?2, decided_by = ?3,
                     decided_at = ?4, facts = ?5, updated_at = ?6",
            )
            .bind(order_id)
            .bind(to_text(&state.status)?)
            .bind(&state.decided_by)
            .bind(state.decided_at)
            .bind(i64::try_from(state.facts).unwrap_or(i64::MAX))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(state)
    }

    /// The orders changed last (see [`crate::store::Store::recent_orders`]).
    pub async fn recent_order_rows(&self) -> Result<Vec<StateRow>> {
        let sql = crate::store::orders::recent_orders_sql();
        Ok(sqlx::query_as::<_, StateRow>(&sql)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn order(&self, order_id: &str) -> Result<Option<(OrderState, Vec<Fact>)>> {
        let Some(row) = sqlx::query_as::<_, StateRow>(
            "SELECT order_id, status, decided_by, decided_at, facts FROM orders WHERE order_id = ?",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let state = row.into_state()?;
        let rows = sqlx::query_as::<_, FactRow>(FACTS_SQL)
            .bind(order_id)
            .fetch_all(&self.pool)
            .await?;
        let facts = rows
            .into_iter()
            .map(FactRow::into_fact)
            .collect::<Result<Vec<Fact>>>()?;
        Ok(Some((state, facts)))
    }

    pub async fn order_events(&self, order_id: &str) -> Result<Vec<Event>> {
        sqlx::query_as::<_, EventRow>(&format!(
            "SELECT pk, normalized, payload FROM events WHERE order_id = ?
             ORDER BY received_at LIMIT {ORDER_EVENTS_MAX}"
        ))
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
    }
}
