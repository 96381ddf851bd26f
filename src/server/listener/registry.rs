//! The connection cap: every open connection has a slot; at the cap a new one
//! takes the slot of the oldest connection with no request in flight, and is
//! refused only when every connection is busy (decision record 0056).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// What a connection and the registry share.
#[derive(Debug, Default)]
pub struct Slot {
    /// Requests whose handler started.
    started: AtomicU64,
    /// Requests whose handler answered.
    finished: AtomicU64,
    /// Told when the registry gives this connection's slot to a newer one.
    evicted: Notify,
}

impl Slot {
    /// A handler started on this connection.
    pub fn request_started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// A handler answered on this connection.
    pub fn request_finished(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }

    /// How many handlers have started and answered so far.
    pub fn requests(&self) -> (u64, u64) {
        (
            self.started.load(Ordering::Relaxed),
            self.finished.load(Ordering::Relaxed),
        )
    }

    /// Whether a request is in flight (its handler started and has not answered).
    fn busy(&self) -> bool {
        let (started, finished) = self.requests();
        started != finished
    }

    /// Resolves when this connection should close to make room.
    pub async fn evicted(&self) {
        self.evicted.notified().await;
    }
}

/// The open connections, oldest first.
#[derive(Debug)]
pub struct Registry {
    max: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    open: BTreeMap<u64, Arc<Slot>>,
}

/// A connection's hold on its slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Ticket {
    id: u64,
    slot: Arc<Slot>,
    registry: Arc<Registry>,
}

impl Ticket {
    /// The state this connection shares with the registry.
    pub fn slot(&self) -> &Arc<Slot> {
        &self.slot
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.registry.lock().open.remove(&self.id);
    }
}

/// How a new connection was let in.
#[derive(Debug)]
pub enum Admission {
    /// A slot was free.
    Admitted(Ticket),
    /// The oldest idle connection was told to close to make room.
    Displaced(Ticket),
    /// Every connection has a request in flight.
    Refused,
}

impl Registry {
    /// Room for `max` connections at once (at least one).
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Held for a map update, never across an await.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Connections holding a slot now.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    /// Gives a new connection a slot, displacing the oldest idle one at the cap.
    pub fn admit(self: &Arc<Self>) -> Admission {
        let mut inner = self.lock();
        let displaced = if inner.open.len() >= self.max {
            // Oldest first: a slow or silent connection has been holding its slot longest.
            let victim = inner
                .open
                .iter()
                .find(|(_, slot)| !slot.busy())
                .map(|(id, _)| *id);
            let Some(victim) = victim.and_then(|id| inner.open.remove(&id)) else {
                return Admission::Refused;
            };
            // `notify_one` keeps the wake-up if the connection is not waiting yet.
            victim.evicted.notify_one();
            true
        } else {
            false
        };
        let id = inner.next_id;
        inner.next_id += 1;
        let slot = Arc::new(Slot::default());
        inner.open.insert(id, slot.clone());
        drop(inner);
        let ticket = Ticket {
            id,
            slot,
            registry: self.clone(),
        };
        if displaced {
            Admission::Displaced(ticket)
        } else {
            Admission::Admitted(ticket)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(admission: Admission) -> Ticket {
        match admission {
            Admission::Admitted(ticket) | Admission::Displaced(ticket) => ticket,
            Admission::Refused => panic!("refused"),
        }
    }

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let registry = Registry::new(2);
        let first = ticket(registry.admit());
        let second = ticket(registry.admit());
        first.slot().request_started();
        // The first is busy, so the second (idle) is displaced.
        let third = registry.admit();
        assert!(matches!(third, Admission::Displaced(_)), "{third:?}");
        assert_eq!(registry.open(), 2);
        drop(second);
        assert_eq!(
            registry.open(),
            2,
            "a displaced ticket's slot is already gone"
        );
        let third = ticket(third);
        third.slot().request_started();
        assert!(matches!(registry.admit(), Admission::Refused));
        first.slot().request_finished();
        assert!(matches!(registry.admit(), Admission::Displaced(_)));
    }

    #[test]
    fn dropping_a_ticket_frees_its_slot() {
        let registry = Registry::new(1);
        let only = ticket(registry.admit());
        drop(only);
        assert_eq!(registry.open(), 0);
        assert!(matches!(registry.admit(), Admission::Admitted(_)));
    }
}
