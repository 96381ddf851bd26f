//! The stock ledger contract: herald's database implements [`StockLedger`], the
//! inventory plugin decides which moves an event makes.
//!
//! It lives here, not in the inventory plugin, so [`BuildContext`](crate::BuildContext)
//! can hand a ledger to that plugin without herald's plugin list seeing the store.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One change to one SKU's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMove {
    pub sku: String,
    /// Negative when stock leaves (an order is paid), positive when it comes back.
    pub delta: i64,
}

/// The ledger could not be read or written; the delivery is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stock ledger: {0}")]
pub struct LedgerError(pub String);

/// Durable stock levels, shared by every herald replica.
#[async_trait]
pub trait StockLedger: Send + Sync {
    /// In one transaction: applies `moves` unless `key` (the job's idempotency key)
    /// was applied before. Returns `true` when applied now, `false` for a repeat.
    ///
    /// # Errors
    /// When the database fails; nothing is applied then.
    async fn apply(
        &self,
        key: &str,
        event_id: &str,
        moves: &[StockMove],
    ) -> Result<bool, LedgerError>;

    /// Stock levels, by SKU; all SKUs when `sku` is `None`.
    ///
    /// # Errors
    /// When the database fails.
    async fn levels(&self, sku: Option<&str>) -> Result<Vec<(String, i64)>, LedgerError>;
}
