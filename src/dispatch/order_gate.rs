//! The order gate: a job whose rule reads `order.…` is checked again just before
//! delivery, against the order as the store knows it then, because Stripe's events
//! arrive out of order and the order may have moved on since the job was planned.
//! So is a job whose rule reads `customer.…` for an event naming a customer id, as
//! the directory may have filled what the event lacked.
//!
//! A job whose `when` no longer holds is recorded as skipped, with the comparisons
//! that failed as its reason, and never reaches its plugin.

use std::time::Duration;

use tracing::{info, warn};

use super::shared::{Attempted, Shared};
use crate::reload::Snapshot;
use crate::rules::OrderView;
use crate::store::ClaimedJob;

/// How long a job waits when the order could not be read, before it is tried again.
const UNREADABLE_ORDER_WAIT: Duration = Duration::from_secs(5);

impl Shared {
    /// `None` when `job` may go on to its plugin; otherwise what becomes of it.
    pub(super) async fn order_gate(&self, job: &ClaimedJob, live: &Snapshot) -> Option<Attempted> {
        let reads_order = live.rules().reads_order(&job.rule);
        let reads_customer =
            job.event.customer.id.is_some() && live.rules().reads_customer(&job.rule);
        if !reads_order && !reads_customer {
            return None;
        }
        let started_at_ms = self.clock.now_ms();
        let view = match job.event.order_id.as_deref() {
            // The rule reads no `order.…`: what the view says is not looked at.
            _ if !reads_order => OrderView::default(),
            // Without an order id the event is an order of its own.
            None => OrderView::of(&job.event, &[], &[]),
            Some(order_id) => match self.store.order_record(order_id).await {
                Ok((events, facts)) => OrderView::of(&job.event, &facts, &events),
                Err(err) => {
                    warn!(job_id = job.id, error = %err, "could not read the order to check the rule; will try again");
                    let wait = i64::try_from(UNREADABLE_ORDER_WAIT.as_millis()).unwrap_or(i64::MAX);
                    return Some(Attempted::PutBack {
                        run_at: started_at_ms.saturating_add(wait),
                    });
                }
            },
        };
        let reason = live
            .rules()
            .check_at_delivery(&job.rule, &job.event, view)
            .err()?;
        info!(job_id = job.id, key = %job.idempotency_key, %reason, "skipped: the rule no longer holds");
        Some(self.skip(job, started_at_ms, reason))
    }
}
