//! Order facts and statuses: herald's database as the orders plugin's ledger.
//!
//! Both backends share the row mapping here; each owns its SQL.

use herald_plugin_orders::ledger::{Fact, OrderState};
use serde_json::Value;

use super::error::{Result, StoreError};
use super::{Backend, Store};

/// The most events of one order read to see it at delivery: far more than a
/// real order has, few enough that a hostile id reused on every event stays cheap.
pub(super) const ORDER_EVENTS_MAX: usize = 500;

/// A signal or status as stored: its serde name (`paid`, `partially_refunded`, …).
pub(super) fn to_text<T: serde::Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(Value::String(text)) => Ok(text),
        _ => Err(StoreError::Corrupt(
            "an order status is not a name".to_owned(),
        )),
    }
}

/// A stored name back into a signal or status.
pub(super) fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_value(Value::String(text.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("unknown order status `{text}`")))
}

/// A stored fact's columns.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct FactRow {
    pub event_id: String,
    pub event_type: String,
    pub created: i64,
    pub signal: String,
    pub amount: Option<i64>,
}

impl FactRow {
    pub(super) fn into_fact(self) -> Result<Fact> {
        Ok(Fact {
            event_id: self.event_id,
            event_type: self.event_type,
            created: self.created,
            signal: from_text(&self.signal)?,
            amount: self.amount,
        })
    }
}

/// A stored state's columns.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct StateRow {
    pub order_id: String,
    pub status: String,
    pub decided_by: String,
    pub decided_at: i64,
    pub facts: i64,
}

impl StateRow {
    pub(super) fn into_state(self) -> Result<OrderState> {
        Ok(OrderState {
            order_id: self.order_id,
            status: from_text(&self.status)?,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            facts: usize::try_from(self.facts.max(0)).unwrap_or(usize::MAX),
        })
    }
}

/// How many orders the console's list shows, the most recently changed first.
pub const RECENT_ORDERS: usize = 50;

/// The recent orders, as both backends select them (the limit is ours, not the
/// request's, so it is written into the text).
pub(super) fn recent_orders_sql() -> String {
    format!(
        "SELECT order_id, status, decided_by, decided_at, facts FROM orders \
         ORDER BY updated_at DESC, order_id LIMIT {RECENT_ORDERS}"
    )
}

/// One order in a listing: its id and its status as the orders plugin saved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderListing {
    pub state: OrderState,
}

impl Store {
    /// The orders the orders plugin changed last (`RECENT_ORDERS` of them), newest first.
    ///
    /// # Errors
    /// On a database error, or a stored status herald does not know.
    pub async fn recent_orders(&self) -> Result<Vec<OrderListing>> {
        let rows = on_backend!(self.recent_order_rows())?;
        rows.into_iter()
            .map(|row| row.into_state().map(|state| OrderListing { state }))
            .collect()
    }
}
