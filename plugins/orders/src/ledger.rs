//! Where order facts live: herald's database implements [`OrderLedger`]; the
//! plugin only decides what a fact means.

use herald_plugin_api::async_trait;
use serde::{Deserialize, Serialize};

use crate::status::{OrderStatus, Signal};

/// What one event says about one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// The provider's event id; an order records each event once.
    pub event_id: String,
    /// The provider's event type, for the operator.
    pub event_type: String,
    /// When the provider created the event (Unix seconds): facts are folded in this order.
    pub created: i64,
    /// The status the event moves the order towards.
    pub signal: Signal,
    /// An amount the signal carries (refunded so far, for refunds), in minor units.
    pub amount: Option<i64>,
}

/// An order's status, as computed from all its facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    pub order_id: String,
    pub status: OrderStatus,
    /// The fact that set the status: its event id and `created`.
    pub decided_by: String,
    pub decided_at: i64,
    /// How many facts the status was computed from.
    pub facts: usize,
}

/// The ledger could not be read or written; the delivery is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order ledger: {0}")]
pub struct LedgerError(pub String);

/// Folds an order's facts (all of them, in any order) into its state; `None` when
/// no fact gives the order a status.
pub type Fold = dyn Fn(&str, &[Fact]) -> Option<OrderState> + Send + Sync;

/// Durable storage of order facts and statuses, shared by every herald replica.
#[async_trait]
pub trait OrderLedger: Send + Sync {
    /// In one transaction, serialized per order: records `fact` for `order_id` (a
    /// fact with an event id already recorded for the order is not added twice),
    /// folds all the order's facts with `fold`, and saves the resulting state.
    /// Returns the saved state.
    ///
    /// # Errors
    /// When the database fails; nothing is saved then.
    async fn apply(
        &self,
        order_id: &str,
        fact: &Fact,
        fold: &Fold,
    ) -> Result<Option<OrderState>, LedgerError>;

    /// The order's saved state and its facts, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    async fn get(&self, order_id: &str) -> Result<Option<(OrderState, Vec<Fact>)>, LedgerError>;
}
