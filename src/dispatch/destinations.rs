//! Each plugin instance's breaker and share of deliveries, made the first time a
//! job goes to it.
//!
//! Made on first use rather than from the plugin set at start, so an instance a
//! hot reload adds gets its `max_concurrency` and its breaker like one configured
//! from the start. A reload that changes an instance's `max_concurrency` gives it a
//! new share of that size; deliveries already holding the old one finish with it.
//! A breaker keeps its state across reloads (its settings are `[dispatch]`'s, which
//! take effect on restart).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::breaker::CircuitBreaker;

/// One instance's share of the deliveries in flight, and the size it was made with.
struct Share {
    limit: usize,
    permits: Arc<Semaphore>,
}

/// The breakers and shares of every instance jobs have gone to.
pub(super) struct Destinations {
    breaker_failures: u32,
    breaker_cooldown: Duration,
    // std locks: held for a map lookup or insert, never across an await. Reads
    // far outnumber writes (one write per instance and reload), hence RwLock.
    breakers: RwLock<HashMap<String, Arc<CircuitBreaker>>>,
    shares: RwLock<HashMap<String, Share>>,
}

impl Destinations {
    /// No destination yet; breakers open after `breaker_failures` failures in a row.
    pub(super) fn new(breaker_failures: u32, breaker_cooldown: Duration) -> Self {
        Self {
            breaker_failures,
            breaker_cooldown,
            breakers: RwLock::default(),
            shares: RwLock::default(),
        }
    }

    /// The breaker of instance `plugin`, made closed if it has none yet.
    pub(super) fn breaker(&self, plugin: &str) -> Arc<CircuitBreaker> {
        if let Some(breaker) = self.existing_breaker(plugin) {
            return breaker;
        }
        let mut breakers = self
            .breakers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        breakers
            .entry(plugin.to_owned())
            .or_insert_with(|| {
                Arc::new(CircuitBreaker::new(
                    self.breaker_failures,
                    self.breaker_cooldown,
                ))
            })
            .clone()
    }

    /// The breaker of instance `plugin` if a job has gone to it.
    pub(super) fn existing_breaker(&self, plugin: &str) -> Option<Arc<CircuitBreaker>> {
        let breakers = self.breakers.read().unwrap_or_else(PoisonError::into_inner);
        breakers.get(plugin).cloned()
    }

    /// Instance `plugin`'s share of deliveries in flight, `limit` wide.
    pub(super) fn share(&self, plugin: &str, limit: usize) -> Arc<Semaphore> {
        let limit = limit.max(1);
        {
            let shares = self.shares.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(share) = shares.get(plugin).filter(|share| share.limit == limit) {
                return share.permits.clone();
            }
        }
        let mut shares = self.shares.write().unwrap_or_else(PoisonError::into_inner);
        let share = shares.entry(plugin.to_owned()).or_insert_with(|| Share {
            limit,
            permits: Arc::new(Semaphore::new(limit)),
        });
        if share.limit != limit {
            *share = Share {
                limit,
                permits: Arc::new(Semaphore::new(limit)),
            };
        }
        share.permits.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_gets_one_breaker_however_often_it_is_asked_for() {
        let destinations = Destinations::new(3, Duration::from_secs(1));
        assert!(destinations.existing_breaker("added").is_none());
        let first = destinations.breaker("added");
        let again = destinations.breaker("added");
        assert!(Arc::ptr_eq(&first, &again));
        assert!(destinations.existing_breaker("added").is_some());
    }

    #[test]
    fn a_share_is_as_wide_as_the_limit_and_remade_when_the_limit_changes() {
        let destinations = Destinations::new(3, Duration::from_secs(1));
        let two = destinations.share("sms", 2);
        assert_eq!(two.available_permits(), 2);
        assert!(Arc::ptr_eq(&two, &destinations.share("sms", 2)));
        let one = destinations.share("sms", 1);
        assert_eq!(one.available_permits(), 1);
        assert!(!Arc::ptr_eq(&two, &one));
        // Zero would let nothing through; it means one.
        assert_eq!(destinations.share("push", 0).available_permits(), 1);
    }
}
