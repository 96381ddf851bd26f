//! An in-memory [`OrderLedger`], for tests and documentation; herald's real ledger
//! lives in its database. Nothing survives a restart.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use herald_plugin_api::async_trait;

use crate::ledger::{Fact, Fold, LedgerError, OrderLedger, OrderState};

/// One order's record: its saved state and its facts in arrival order.
#[derive(Debug, Default)]
struct Order {
    state: Option<OrderState>,
    facts: Vec<Fact>,
}

/// Order facts and states in a map behind a mutex.
///
/// The lock is only ever held inside the synchronous body of a call (never across an
/// `.await`), which gives the per-order serialization the contract asks for.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    orders: Mutex<HashMap<String, Order>>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, HashMap<String, Order>>, LedgerError> {
        // A poisoned lock means a fold panicked mid-update; report it rather than panic too.
        self.orders
            .lock()
            .map_err(|_| LedgerError("memory ledger lock poisoned".to_owned()))
    }
}

#[async_trait]
impl OrderLedger for MemoryLedger {
    async fn apply(
        &self,
        order_id: &str,
        fact: &Fact,
        fold: &Fold,
    ) -> Result<Option<OrderState>, LedgerError> {
        let mut orders = self.lock()?;
        let order = orders.entry(order_id.to_owned()).or_default();
        if !order.facts.iter().any(|f| f.event_id == fact.event_id) {
            order.facts.push(fact.clone());
        }
        order.state = fold(order_id, &order.facts);
        Ok(order.state.clone())
    }

    async fn get(&self, order_id: &str) -> Result<Option<(OrderState, Vec<Fact>)>, LedgerError> {
        let orders = self.lock()?;
        let Some(order) = orders.get(order_id) else {
            return Ok(None);
        };
        Ok(order.state.clone().map(|state| {
            let mut facts = order.facts.clone();
            // Oldest first, as the contract promises; stable, so ties keep arrival order.
            facts.sort_by_key(|f| f.created);
            (state, facts)
        }))
    }
}
