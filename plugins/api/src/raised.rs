//! Events of herald's own that a delivery raises: a stock level crossing its
//! threshold, and later herald's operational alerts.
//!
//! A plugin raises them on the [`Job`](crate::Job)'s [`Raised`]; the dispatcher
//! stores and routes them (source `herald`, types `herald.…`) before it records the
//! job as delivered, so a crash in between repeats the delivery, which raises them
//! again under the same ids, and the store keeps each once. A job of a herald event
//! never raises one, so they cannot trigger themselves in a loop.

use std::sync::Mutex;

use serde_json::Value;

/// One event a delivery raises.
#[derive(Debug, Clone, PartialEq)]
pub struct RaisedEvent {
    /// Its id: derived from what caused it (the job's idempotency key, a SKU…), so a
    /// repeated delivery raises the same event, never a second one.
    pub id: String,
    /// Its type, `herald.<what>`, e.g. `herald.stock_low`.
    pub kind: String,
    /// What rules and templates read as `data.object`.
    pub object: Value,
}

/// Where a delivery's raised events go until the dispatcher takes them.
#[derive(Debug, Default)]
pub struct Raised {
    events: Mutex<Vec<RaisedEvent>>,
    discard: bool,
}

impl Raised {
    /// A sink the dispatcher takes the events from.
    pub const fn new() -> Self {
        Self {
            events: Mutex::new(Vec::new()),
            discard: false,
        }
    }

    /// A sink that drops every event: for previews, dry runs and tests that do not
    /// look at them.
    pub const fn discarding() -> Self {
        Self {
            events: Mutex::new(Vec::new()),
            discard: true,
        }
    }

    /// Raises `event`.
    pub fn raise(&self, event: RaisedEvent) {
        if self.discard {
            return;
        }
        // A poisoned lock means a raiser panicked mid-push; the list is still whole.
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        events.push(event);
    }

    /// The events raised so far, emptying the sink.
    pub fn take(&self) -> Vec<RaisedEvent> {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut events)
    }
}

/// A sink that drops what it is given, shared by every caller that needs one.
pub static DISCARDED: Raised = Raised::discarding();
