//! The connection cap: every open connection has a slot; at the cap a new one
//! takes the slot of the oldest connection with no request in flight, else of the
//! one whose request body has come least far, and is refused only when every
//! connection has a whole request in its handler (decision records 0056, 0113).

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
    /// Requests whose body has been read to its end.
    bodies_read: AtomicU64,
    /// Body bytes read of the request in flight.
    body_bytes: AtomicU64,
    /// Told when the registry gives this connection's slot to a newer one.
    evicted: Notify,
}

impl Slot {
    /// A handler started on this connection.
    pub fn request_started(&self) {
        self.body_bytes.store(0, Ordering::Relaxed);
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// `bytes` more of the request's body arrived.
    pub fn body_progress(&self, bytes: usize) {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.body_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The request's body has been read to its end (or it has none).
    pub fn body_read(&self) {
        self.bodies_read.fetch_add(1, Ordering::Relaxed);
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

    /// Body bytes received of a request whose body is still coming; `None` when no
    /// request is in flight or its body is whole (its handler is at work on it).
    fn body_in_progress(&self) -> Option<u64> {
        let started = self.started.load(Ordering::Relaxed);
        let read = self.bodies_read.load(Ordering::Relaxed);
        (self.busy() && read < started).then(|| self.body_bytes.load(Ordering::Relaxed))
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
            // With none idle, the one whose body has come least far: a body trickled a
            // byte at a time is no more in flight than a silent connection.
            let idle = inner
                .open
                .iter()
                .find(|(_, slot)| !slot.busy())
                .map(|(id, _)| *id);
            let victim = idle.or_else(|| {
                inner
                    .open
                    .iter()
                    .filter_map(|(id, slot)| Some((slot.body_in_progress()?, *id)))
                    .min()
                    .map(|(_, id)| id)
            });
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
        first.slot().body_read();
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
        third.slot().body_read();
        assert!(matches!(registry.admit(), Admission::Refused));
        first.slot().request_finished();
        assert!(matches!(registry.admit(), Admission::Displaced(_)));
    }

    #[test]
    fn with_none_idle_the_body_that_came_least_far_makes_room() {
        let registry = Registry::new(3);
        let working = ticket(registry.admit());
        working.slot().request_started();
        working.slot().body_progress(900);
        working.slot().body_read();
        let slow = ticket(registry.admit());
        slow.slot().request_started();
        slow.slot().body_progress(10);
        let slower = ticket(registry.admit());
        slower.slot().request_started();
        slower.slot().body_progress(2);
        let fourth = registry.admit();
        assert!(matches!(fourth, Admission::Displaced(_)), "{fourth:?}");
        // The one with 2 bytes went; it is told to close.
        let mut evicted = std::pin::pin!(slower.slot().evicted());
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(std::future::Future::poll(evicted.as_mut(), &mut cx).is_ready());
        // A connection whose whole request is in its handler is never displaced.
        let fourth = ticket(fourth);
        fourth.slot().request_started();
        fourth.slot().body_read();
        slow.slot().body_read();
        assert!(matches!(registry.admit(), Admission::Refused));
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
