//! The jobs this dispatcher holds: from its claim until its attempt is recorded
//! (or it is put back). The heartbeat renews their leases.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The jobs claimed and not yet recorded, by id, so the heartbeat can renew
/// their leases.
#[derive(Debug, Default, Clone)]
pub(super) struct InFlight {
    /// How many holds each job has: a job whose lease ran out while this process
    /// stalled can be claimed again by it, and is held twice until both end.
    held: Arc<Mutex<HashMap<i64, usize>>>,
}

impl InFlight {
    /// Holds job `id` until the guard is dropped.
    pub(super) fn hold(&self, id: i64) -> Held {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        *held.entry(id).or_insert(0) += 1;
        Held {
            id,
            in_flight: self.clone(),
        }
    }

    /// The ids held now.
    pub(super) fn ids(&self) -> Vec<i64> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.keys().copied().collect()
    }
}

/// One hold on a claimed job; released when dropped.
pub(super) struct Held {
    id: i64,
    in_flight: InFlight,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self
            .in_flight
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.id) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_held_twice_stays_held_until_both_holds_end() {
        let in_flight = InFlight::default();
        let first = in_flight.hold(7);
        let second = in_flight.hold(7);
        let other = in_flight.hold(8);
        drop(first);
        let mut ids = in_flight.ids();
        ids.sort_unstable();
        assert_eq!(ids, [7, 8]);
        drop((second, other));
        assert!(in_flight.ids().is_empty());
    }
}
