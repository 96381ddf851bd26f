//! Filling in what an event's payload lacks (its order, its customer's id) from the
//! links between Stripe objects, just before its job is judged and delivered.
//!
//! A dispute names only its charge and payment intent; the payment that names the
//! order may have been stored long before, or may still be on its way. A job whose
//! rule reads the order therefore waits a while for the order to become known, then
//! is judged as it stands.

use std::time::Duration;

use tracing::{debug, warn};

use super::shared::{Attempted, Shared};
use crate::reload::Snapshot;
use crate::store::ClaimedJob;

/// How long after it was queued a job whose rule reads the order waits for an order
/// its event does not name: Stripe sends a case's events within moments of each
/// other, but not always in order.
pub(super) const ORDER_WAIT: Duration = Duration::from_secs(15 * 60);

/// How often a waiting job looks again, and how long one waits when the links could
/// not be read.
pub(super) const LOOK_AGAIN: Duration = Duration::from_secs(10);

impl Shared {
    /// Fills in `job`'s order, and its customer id and amount when missing, from the
    /// links when its event lacks the order. `Some` when the job goes back to the queue instead:
    /// the links could not be read, or its rule reads an order not known yet.
    pub(super) async fn resolve_links(
        &self,
        job: &mut ClaimedJob,
        live: &Snapshot,
    ) -> Option<Attempted> {
        let event = &mut job.event;
        // An event that names its order is not looked up, even without a customer id:
        // most events name both, and a walk per delivery would cost every one of them.
        if !crate::store::resolves(event) {
            return None;
        }
        let now = self.clock.now_ms();
        let look_again = Attempted::PutBack {
            run_at: now.saturating_add(millis(LOOK_AGAIN)),
        };
        let found = match self.store.resolve(event).await {
            Ok(found) => found,
            Err(err) => {
                warn!(job_id = job.id, error = %err, "could not read the links to find the event's order; will try again");
                return Some(look_again);
            }
        };
        event.order_id = found.order_id;
        if event.customer.id.is_none() {
            event.customer.id = found.customer_id;
        }
        if let (None, Some(order_id)) = (event.amount, event.order_id.as_deref()) {
            // A fraud warning or a review carries no amount; its order's payment does.
            match self.store.order_amount(order_id).await {
                Ok(Some((amount, currency))) => {
                    event.amount = Some(amount);
                    event.currency = Some(currency);
                }
                Ok(None) => {}
                Err(err) => {
                    warn!(job_id = job.id, error = %err, "could not read the order's amount; will try again");
                    return Some(look_again);
                }
            }
        }
        let waited = now.saturating_sub(job.queued_at_ms);
        if event.order_id.is_none()
            && live.rules().reads_order(&job.rule)
            && waited < millis(ORDER_WAIT)
        {
            debug!(job_id = job.id, event_id = %event.id, "its order is not known yet; waiting for the event that names it");
            return Some(look_again);
        }
        None
    }
}

pub(super) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
