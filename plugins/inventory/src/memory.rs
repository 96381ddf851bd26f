//! An in-memory [`StockLedger`], for tests and documentation; herald's real ledger lives
//! in its database. Nothing survives a restart.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use herald_plugin_api::async_trait;

use crate::ledger::{
    checked_level, net_moves, order_moves, outstanding, LedgerError, Moved, OrderApplied,
    OrderLines, OrderStockFact, StockLedger, StockMove,
};

/// What the mutex guards: levels, the keys already applied and each order's facts,
/// changed together.
#[derive(Debug, Default)]
struct Stock {
    /// By SKU; a `BTreeMap` so [`StockLedger::levels`] lists SKUs in order.
    levels: BTreeMap<String, i64>,
    applied: HashSet<String>,
    /// By order id: each fact with the event that recorded it.
    orders: BTreeMap<String, Vec<(OrderStockFact, String)>>,
    /// By job key: what it moved.
    moved: BTreeMap<String, Vec<Moved>>,
}

impl Stock {
    /// Applies `moves`, netted, all or nothing: every new level is worked out before
    /// any is stored, so an overflow changes nothing.
    fn apply(&mut self, moves: &[StockMove]) -> Result<Vec<Moved>, LedgerError> {
        let mut moved = Vec::new();
        for StockMove { sku, delta } in net_moves(moves)? {
            let level = self.levels.get(&sku).copied().unwrap_or_default();
            let level = checked_level(&sku, level, delta)?;
            moved.push(Moved { sku, delta, level });
        }
        for Moved { sku, level, .. } in &moved {
            self.levels.insert(sku.clone(), *level);
        }
        Ok(moved)
    }
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
                ..Stock::default()
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
        let moved = stock.apply(moves)?;
        stock.moved.insert(key.to_owned(), moved);
        stock.applied.insert(key.to_owned());
        Ok(true)
    }

    async fn apply_to_order(
        &self,
        order_id: &str,
        job_key: &str,
        event_id: &str,
        lines: &OrderLines,
    ) -> Result<OrderApplied, LedgerError> {
        let mut stock = self.lock()?;
        let recorded = stock.orders.get(order_id).cloned().unwrap_or_default();
        if let Some((_, by)) = recorded.iter().find(|(fact, _)| fact.key == lines.key()) {
            return Ok(OrderApplied::Already { by: by.clone() });
        }
        let before: Vec<OrderStockFact> = recorded.iter().map(|(fact, _)| fact.clone()).collect();
        let new = std::iter::once(StockMove::new("", 0)).chain(net_moves(lines.lines())?);
        let new: Vec<OrderStockFact> = new
            .map(|line| OrderStockFact {
                key: lines.key().to_owned(),
                sku: line.sku,
                quantity: line.delta,
            })
            .collect();
        let after: Vec<OrderStockFact> = before.iter().chain(&new).cloned().collect();
        let moved = stock.apply(&order_moves(&outstanding(&before), &outstanding(&after)))?;
        let entry = stock.orders.entry(order_id.to_owned()).or_default();
        entry.extend(new.into_iter().map(|fact| (fact, event_id.to_owned())));
        stock.moved.insert(job_key.to_owned(), moved.clone());
        Ok(OrderApplied::Moved(moved))
    }

    async fn moved_by(&self, job_key: &str) -> Result<Vec<Moved>, LedgerError> {
        Ok(self.lock()?.moved.get(job_key).cloned().unwrap_or_default())
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
    async fn an_order_takes_once_and_gets_back_no_more_than_it_took() {
        let ledger = MemoryLedger::with_levels([("A", 10)]);
        let take = OrderLines::Take(vec![StockMove::new("A", 2)]);
        let again = OrderLines::Take(vec![StockMove::new("A", 3)]);
        let moved = ledger
            .apply_to_order("O1", "k1", "e1", &take)
            .await
            .unwrap();
        let OrderApplied::Moved(moved) = moved else {
            panic!("{moved:?}")
        };
        assert_eq!(moved[0].level, 8);
        let by = "e1".to_owned();
        let again = ledger.apply_to_order("O1", "k2", "e2", &again).await;
        assert_eq!(again, Ok(OrderApplied::Already { by }));
        let part = OrderLines::Return {
            key: "re_1".into(),
            lines: vec![StockMove::new("A", 5)],
        };
        ledger
            .apply_to_order("O1", "k3", "e3", &part)
            .await
            .unwrap();
        let all = OrderLines::ReturnAll;
        let moved = ledger.apply_to_order("O1", "k4", "e4", &all).await.unwrap();
        assert_eq!(moved, OrderApplied::Moved(vec![]));
        assert_eq!(
            ledger.levels(Some("A")).await.unwrap(),
            vec![("A".to_owned(), 10)]
        );
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
