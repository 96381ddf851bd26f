//! A checkout session's line items, fetched from Stripe's API just before a job of an
//! instance that asks for them (inventory's `line_items_from_stripe`) is delivered,
//! when the session's metadata names none: Stripe's webhooks never carry them.

use serde_json::Value;
use tracing::warn;

use herald_plugin_api::Payload;

use super::links::{millis, LOOK_AGAIN};
use super::shared::{Attempted, Shared};
use crate::reload::Snapshot;
use crate::store::ClaimedJob;
use crate::stripe_api::ApiError;

impl Shared {
    /// Puts the session's line items at `data.object.line_items`. `Some` when the
    /// job goes back to the queue instead: Stripe did not answer.
    pub(super) async fn fill_line_items(
        &self,
        job: &mut ClaimedJob,
        live: &Snapshot,
    ) -> Option<Attempted> {
        let wants = live
            .plugins
            .get(&job.plugin)
            .is_some_and(|plugin| plugin.wants_line_items());
        let event = &mut job.event;
        if !wants || event.source != "stripe" || !event.kind.starts_with("checkout.session.") {
            return None;
        }
        let api = self.stripe.as_ref()?;
        let object = event.raw.value().pointer("/data/object")?;
        let named = object
            .pointer("/metadata/items")
            .is_some_and(|items| items.as_str().is_some_and(|text| !text.trim().is_empty()));
        if named || object.get("line_items").is_some() {
            return None;
        }
        let session = object.get("id")?.as_str()?.to_owned();
        let lines = match api.checkout_line_items(&session).await {
            Ok(Some(lines)) => lines,
            Ok(None) | Err(ApiError::Refused { .. }) => return None,
            Err(err) => {
                warn!(job_id = job.id, error = %err, "could not ask Stripe for the session's line items; will try again");
                return Some(Attempted::PutBack {
                    run_at: self.clock.now_ms().saturating_add(millis(LOOK_AGAIN)),
                });
            }
        };
        let mut whole = event.raw.value().clone();
        if let Some(Value::Object(object)) = whole.pointer_mut("/data/object") {
            object.insert("line_items".to_owned(), lines);
        }
        event.raw = Payload::from_text(whole.to_string());
        None
    }
}
