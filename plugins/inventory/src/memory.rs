//! An in-memory [`StockLedger`], for tests and documentation; herald's real ledger lives
//! in its database. Nothing survives a restart.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use herald_plugin_api::async_trait;

use crate::ledger::{checked_level, net_moves, LedgerError, StockLedger, StockMove};

/// What the mutex guards: levels and the keys already applied, changed together.
#[derive(Debug, Default)]
struct Stock {
    /// By SKU; a `BTreeMap` so [`StockLedger::levels`] lists SKUs in order.
    levels: BTreeMap<String, i64>,
    applied: HashSet<String>,
}

/// Stock levels and applied keys in memory, behind a mutex.
///
/// The lock is only held inside the synchronous body of a call (never across an
/// `.await`), which makes each `apply` one atomic step, as the contract's transaction.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    stock: Mutex<Stock>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// A ledger holding `levels` already, as if stock had been counted in.
    pub fn with_levels<'a>(levels: impl IntoIterator<Item = (&'a str, i64)>) -> Self {
        let levels = levels
            .into_iter()
            .map(|(sku, level)| (sku.to_owned(), level))
            .collect();
        Self {
            stock: Mutex::new(Stock {
                levels,
                applied: HashSet::new(),
            }),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Stock>, LedgerError> {
        // Poisoned only if a holder panicked; report it rather than panic too.
        self.stock
            .lock()
            .map_err(|_| LedgerError::Unavailable("memory ledger lock poisoned".to_owned()))
    }
}

#[async_trait]
impl StockLedger for MemoryLedger {
    async fn apply(
        &self,
        key: &str,
        _event_id: &str,
        moves: &[StockMove],
    ) -> Result<bool, LedgerError> {
        let mut stock = self.lock()?;
        if stock.applied.contains(key) {
            return Ok(false);
        }
        // Every new level is worked out before any is stored: an overflow changes nothing.
        let mut levels = Vec::new();
        for StockMove { sku, delta } in net_moves(moves)? {
            let level = stock.levels.get(&sku).copied().unwrap_or_default();
            levels.push((checked_level(&sku, level, delta)?, sku));
        }
        for (level, sku) in levels {
            stock.levels.insert(sku, level);
        }
        stock.applied.insert(key.to_owned());
        Ok(true)
    }

    async fn levels(&self, sku: Option<&str>) -> Result<Vec<(String, i64)>, LedgerError> {
        let stock = self.lock()?;
        Ok(stock
            .levels
            .iter()
            .filter(|(known, _)| sku.is_none_or(|sku| sku == known.as_str()))
            .map(|(sku, level)| (sku.clone(), *level))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn applies_each_key_once() {
        let ledger = MemoryLedger::with_levels([("A", 10)]);
        assert_eq!(
            ledger
                .apply(
                    "k1",
                    "evt",
                    &[StockMove::new("A", -2), StockMove::new("B", 1)]
                )
                .await,
            Ok(true)
        );
        assert_eq!(
            ledger.apply("k1", "evt", &[StockMove::new("A", -2)]).await,
            Ok(false)
        );
        assert_eq!(
            ledger.levels(None).await.unwrap(),
            vec![("A".to_owned(), 8), ("B".to_owned(), 1)]
        );
        assert_eq!(
            ledger.levels(Some("B")).await.unwrap(),
            vec![("B".to_owned(), 1)]
        );
        assert_eq!(ledger.levels(Some("C")).await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn an_overflowing_adjustment_changes_nothing() {
        let ledger = MemoryLedger::with_levels([("A", 1), ("B", i64::MAX - 1)]);
        let err = ledger
            .apply(
                "k1",
                "evt",
                &[
                    StockMove::new("A", -1),
                    StockMove::new("B", 1),
                    StockMove::new("B", 1),
                ],
            )
            .await
            .unwrap_err();
        assert!(err.is_permanent(), "{err}");
        assert_eq!(
            ledger.levels(None).await.unwrap(),
            vec![("A".to_owned(), 1), ("B".to_owned(), i64::MAX - 1)]
        );
        // Not recorded as applied: a corrected adjustment under the key goes through.
        assert_eq!(
            ledger.apply("k1", "evt", &[StockMove::new("A", -1)]).await,
            Ok(true)
        );
    }
}
