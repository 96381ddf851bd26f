//! Filling in `customer.*` from the customer directory, just before a job is judged
//! and delivered: a subscription or an invoice names only `cus_…`, yet its mail
//! needs an address.
//!
//! Only events that name their customer by id without an address are filled, only
//! in the fields they lack, and only from what events naming the same customer id
//! told: the event's own contact always wins, and an event without a customer id is
//! never given one's contact.

use tracing::warn;

use herald_plugin_api::Customer;

use super::links::{millis, LOOK_AGAIN};
use super::shared::{Attempted, Shared};
use crate::store::ClaimedJob;
use crate::store::Contact;
use crate::stripe_api::ApiError;

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
        let look_again = Attempted::PutBack {
            run_at: self.clock.now_ms().saturating_add(millis(LOOK_AGAIN)),
        };
        let known = match self.store.customer(&event.source, id).await {
            Ok(Some(known)) => known,
            Ok(None) => match self.ask_stripe(&event.source, id).await {
                Ok(Some(known)) => known,
                Ok(None) => return None,
                Err(err) => {
                    warn!(job_id = job.id, error = %err, "could not ask Stripe for the customer; will try again");
                    return Some(look_again);
                }
            },
            Err(err) => {
                warn!(job_id = job.id, error = %err, "could not read the customer directory; will try again");
                return Some(look_again);
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

    /// A customer the directory does not know, from Stripe's API when a key is set,
    /// learned into the directory so the next event of theirs is not asked again.
    /// `None` without a key, for a `source` other than Stripe, or for a customer
    /// Stripe does not have.
    ///
    /// # Errors
    /// When Stripe does not answer or the directory cannot be written: the job waits.
    async fn ask_stripe(&self, source: &str, id: &str) -> Result<Option<Customer>, String> {
        let Some(api) = self.stripe.as_ref().filter(|_| source == "stripe") else {
            return Ok(None);
        };
        let object = match api.customer(id).await {
            Ok(Some(object)) => object,
            Ok(None) | Err(ApiError::Refused { .. }) => return Ok(None),
            Err(err) => return Err(err.to_string()),
        };
        let mut customer = crate::source::stripe::customer(&object);
        customer.id = Some(id.to_owned());
        // Learned now: Stripe's answer is the customer as they are today.
        let now = self.clock.now_ms().div_euclid(1000);
        if let Some(contact) = Contact::told(source, &customer, now) {
            self.store
                .learn_contact(&contact)
                .await
                .map_err(|err| err.to_string())?;
        }
        Ok(Some(customer))
    }
}
