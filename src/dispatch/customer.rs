//! Filling in `customer.*` from the customer directory, just before a job is judged
//! and delivered: a subscription or an invoice names only `cus_…`, yet its mail
//! needs an address.
//!
//! Only events that name their customer by id without an address are filled, only
//! in the fields they lack, and only from what events naming the same customer id
//! told: the event's own contact always wins, and an event without a customer id is
//! never given one's contact.

use tracing::warn;

use super::links::{millis, LOOK_AGAIN};
use super::shared::{Attempted, Shared};
use crate::store::ClaimedJob;

impl Shared {
    /// Fills `job`'s missing contact fields from the directory. `Some` when the job
    /// goes back to the queue instead: the directory could not be read.
    pub(super) async fn fill_customer(&self, job: &mut ClaimedJob) -> Option<Attempted> {
        let event = &mut job.event;
        // Only an event without an address is looked up: one per delivery of such an
        // event, none for the payments and charges that carry their own.
        if !event.customer.named_only() {
            return None;
        }
        let id = event.customer.id.as_deref()?;
        let known = match self.store.customer(&event.source, id).await {
            Ok(Some(known)) => known,
            Ok(None) => return None,
            Err(err) => {
                warn!(job_id = job.id, error = %err, "could not read the customer directory; will try again");
                let run_at = self.clock.now_ms().saturating_add(millis(LOOK_AGAIN));
                return Some(Attempted::PutBack { run_at });
            }
        };
        let customer = &mut event.customer;
        customer.email = customer.email.take().or(known.email);
        customer.name = customer.name.take().or(known.name);
        customer.phone = customer.phone.take().or(known.phone);
        if customer.locales.is_empty() {
            customer.locales = known.locales;
        }
        None
    }
}
