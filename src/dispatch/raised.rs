//! Events of herald's own that a delivery raised (`herald.stock_low`, …): stored and
//! routed by the rules like a webhook's, before the job that raised them is recorded
//! as delivered.
//!
//! Their ids come from what caused them, so a delivery repeated after a crash raises
//! the same events and the store keeps each once. A job of a herald event raises
//! nothing: herald's events never trigger themselves in a loop.

use herald_plugin_api::{Customer, Event, RaisedEvent};
use serde_json::json;
use tracing::{debug, info};

use super::shared::Shared;
use crate::reload::Snapshot;
use crate::store::{ClaimedJob, Planned, StoreError};

/// The source herald's own events carry.
pub const HERALD_SOURCE: &str = "herald";

impl Shared {
    /// Stores `raised` with the jobs the rules in force plan for each.
    ///
    /// # Errors
    /// When one cannot be stored; the job is then tried again, and raises them again.
    pub(super) async fn store_raised(
        &self,
        job: &ClaimedJob,
        live: &Snapshot,
        raised: Vec<RaisedEvent>,
    ) -> Result<(), StoreError> {
        if raised.is_empty() {
            return Ok(());
        }
        if job.event.source == HERALD_SOURCE {
            debug!(job_id = job.id, event_id = %job.event.id, dropped = raised.len(),
                   "a job of a herald event raises no event of its own");
            return Ok(());
        }
        let now_ms = self.clock.now_ms();
        for raised in raised {
            let event = herald_event(raised, &job.event, now_ms);
            let planned = Planned::of(live.rules(), &event);
            info!(event_id = %event.id, event_type = %event.kind, jobs = planned.jobs.len(),
                  cause = %job.event.id, "herald raised an event");
            self.store.ingest_planned(&event, planned, now_ms).await?;
        }
        Ok(())
    }
}

/// `raised` as a stored event, caused by `cause`.
pub fn herald_event(raised: RaisedEvent, cause: &Event, now_ms: i64) -> Event {
    own_event(raised, cause.livemode, now_ms)
}

/// One of herald's own events, stored at `now_ms`, in Stripe's shape so rules and
/// templates read it the same way: `type`, `created`, `data.object`.
pub fn own_event(raised: RaisedEvent, livemode: bool, now_ms: i64) -> Event {
    let created = now_ms.div_euclid(1000);
    let raw = json!({
        "id": raised.id,
        "object": "event",
        "type": raised.kind,
        "created": created,
        "livemode": livemode,
        "data": { "object": raised.object },
    });
    Event {
        id: raised.id,
        source: HERALD_SOURCE.to_owned(),
        kind: raised.kind,
        created,
        livemode,
        api_version: None,
        object_id: None,
        order_id: None,
        links: Vec::new(),
        customer: Customer::default(),
        amount: None,
        currency: None,
        raw: raw.into(),
    }
}
