//! An in-memory [`SubscriptionLedger`], for tests; herald's real ledger is its database.

use std::collections::BTreeMap;
use std::sync::Mutex;

use herald_plugin_api::async_trait;

use crate::ledger::{
    terms_changed, Entitlements, LedgerError, Recorded, SubscriptionFact, SubscriptionFilter,
    SubscriptionFold, SubscriptionLedger, SubscriptionState,
};

#[derive(Debug, Default)]
struct Books {
    /// By subscription: each fact with whether it changed the terms.
    facts: BTreeMap<String, Vec<(SubscriptionFact, bool)>>,
    states: BTreeMap<String, SubscriptionState>,
    entitlements: BTreeMap<String, Entitlements>,
}

/// Subscriptions in memory, behind a mutex held only inside each call.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    books: Mutex<Books>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Books>, LedgerError> {
        self.books
            .lock()
            .map_err(|_| LedgerError("memory ledger lock poisoned".to_owned()))
    }
}

#[async_trait]
impl SubscriptionLedger for MemoryLedger {
    async fn apply(
        &self,
        subscription_id: &str,
        fact: &SubscriptionFact,
        fold: &SubscriptionFold,
    ) -> Result<Recorded, LedgerError> {
        let mut books = self.lock()?;
        let known = books.facts.entry(subscription_id.to_owned()).or_default();
        if let Some((_, changed)) = known.iter().find(|(old, _)| old.event_id == fact.event_id) {
            let changed = *changed;
            let state = books.states.get(subscription_id).cloned();
            return Ok(Recorded { state, changed });
        }
        let before: Vec<SubscriptionFact> = known.iter().map(|(fact, _)| fact.clone()).collect();
        let mut after = before.clone();
        after.push(fact.clone());
        let old = fold(subscription_id, &before);
        let new = fold(subscription_id, &after);
        let changed = terms_changed(old.as_ref(), new.as_ref());
        known.push((fact.clone(), changed));
        if let Some(state) = &new {
            books
                .states
                .insert(subscription_id.to_owned(), state.clone());
        }
        Ok(Recorded {
            state: new,
            changed,
        })
    }

    async fn get(
        &self,
        subscription_id: &str,
    ) -> Result<Option<(SubscriptionState, Vec<SubscriptionFact>)>, LedgerError> {
        let books = self.lock()?;
        let Some(state) = books.states.get(subscription_id) else {
            return Ok(None);
        };
        let mut facts: Vec<SubscriptionFact> = books
            .facts
            .get(subscription_id)
            .map(|facts| facts.iter().map(|(fact, _)| fact.clone()).collect())
            .unwrap_or_default();
        facts.sort_by(|a, b| (a.created, &a.event_id).cmp(&(b.created, &b.event_id)));
        Ok(Some((state.clone(), facts)))
    }

    async fn list(
        &self,
        filter: &SubscriptionFilter,
    ) -> Result<Vec<SubscriptionState>, LedgerError> {
        let books = self.lock()?;
        Ok(books
            .states
            .values()
            .filter(|state| filter.status.is_none_or(|status| state.status == status))
            .filter(|state| filter.customer.is_none() || state.customer == filter.customer)
            .take(filter.limit)
            .cloned()
            .collect())
    }

    async fn set_entitlements(&self, entitlements: &Entitlements) -> Result<(), LedgerError> {
        let mut books = self.lock()?;
        let newer = books
            .entitlements
            .get(&entitlements.customer)
            .is_none_or(|known| entitlements.created >= known.created);
        if newer {
            books
                .entitlements
                .insert(entitlements.customer.clone(), entitlements.clone());
        }
        Ok(())
    }

    async fn entitlements(&self, customer: &str) -> Result<Vec<String>, LedgerError> {
        let books = self.lock()?;
        Ok(books
            .entitlements
            .get(customer)
            .map(|known| known.features.clone())
            .unwrap_or_default())
    }
}
