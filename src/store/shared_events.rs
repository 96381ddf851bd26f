//! The events of a claim, loaded once each and handed to their jobs.

use std::collections::HashMap;

use herald_plugin_api::Event;

use super::error::{Result, StoreError};

/// Claimed jobs' events by pk. Jobs of one event share it: the last to ask takes
/// it and the others get a copy, so the common case (one job per event) copies
/// no payload at all.
pub(super) struct SharedEvents {
    events: HashMap<i64, Event>,
    jobs_left: HashMap<i64, usize>,
}

impl SharedEvents {
    /// `events` by pk, for jobs whose events are `job_event_pks` (one per job).
    pub(super) fn new(events: HashMap<i64, Event>, job_event_pks: &[i64]) -> Self {
        let mut jobs_left = HashMap::with_capacity(events.len());
        for pk in job_event_pks {
            *jobs_left.entry(*pk).or_default() += 1;
        }
        Self { events, jobs_left }
    }

    /// The event `pk` for one of its jobs.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the event was not loaded.
    pub(super) fn take(&mut self, pk: i64) -> Result<Event> {
        let left = self.jobs_left.entry(pk).or_default();
        *left = left.saturating_sub(1);
        let event = if *left == 0 {
            self.events.remove(&pk)
        } else {
            self.events.get(&pk).cloned()
        };
        event.ok_or_else(|| StoreError::Corrupt(format!("job of missing event {pk}")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(id: &str) -> Event {
        serde_json::from_value(json!({
            "id": id, "source": "stripe", "type": "charge.refunded", "created": 1,
            "livemode": false, "object_id": null, "order_id": null,
            "customer": {"email": null, "phone": null, "name": null},
            "amount": null, "currency": null
        }))
        .expect("event")
    }

    #[test]
    fn every_job_gets_its_event_and_the_last_takes_it() {
        let events = HashMap::from([(1, event("evt_1")), (2, event("evt_2"))]);
        let mut shared = SharedEvents::new(events, &[1, 2, 1]);
        assert_eq!(shared.take(1).expect("first").id, "evt_1");
        assert_eq!(shared.take(2).expect("only").id, "evt_2");
        assert_eq!(
            shared.events.len(),
            1,
            "evt_2 moved out, evt_1 still shared"
        );
        assert_eq!(shared.take(1).expect("last").id, "evt_1");
        assert!(shared.events.is_empty());
        assert!(matches!(shared.take(3), Err(StoreError::Corrupt(_))));
    }
}
