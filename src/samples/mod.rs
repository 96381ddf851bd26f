//! Sample Stripe events, one per type herald knows: what `herald trigger` sends,
//! and what other commands render templates against.
//!
//! The events are data, not code: `src/samples/stripe/<type>.json`, full Stripe
//! `event` objects in the API version of `tests/fixtures/stripe/`, embedded in the
//! binary (by `build.rs`) so they work from any folder. They tell the fixtures'
//! story: Jenny Rosen's order `ORDER12345` and her coffee-club subscription.
//!
//! `src/samples/herald/` holds samples of herald's own events (`herald.stock_low`),
//! in the same shape: templates and `check` render against them, but `trigger`
//! does not send them, as Stripe never does.

mod edit;
mod order;
mod stories;
mod times;

use rand::distr::{Alphanumeric, SampleString};
use serde_json::Value;

pub use self::edit::{set, Assignment, SetError};
pub use self::order::to_pretty_json;
pub use self::stories::{story, UnknownStory, STORIES};

/// `(type, JSON text)` for every sample, sorted by type.
const STRIPE: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/stripe_samples.rs"));

/// Every sample as `(type, JSON text exactly as stored)`, sorted by type.
pub fn all() -> impl Iterator<Item = (&'static str, &'static str)> {
    STRIPE.iter().copied()
}

/// The event types there is a sample of, sorted.
pub fn types() -> impl Iterator<Item = &'static str> {
    STRIPE.iter().map(|(kind, _)| *kind)
}

/// The types of Stripe's samples: what `herald trigger` sends.
pub fn stripe_types() -> impl Iterator<Item = &'static str> {
    types().filter(|kind| !is_herald(kind))
}

/// Whether `kind` is a type of herald's own events, which herald raises itself.
pub fn is_herald(kind: &str) -> bool {
    kind.starts_with("herald.")
}

/// The stored JSON of `kind`'s sample.
pub fn text(kind: &str) -> Option<&'static str> {
    STRIPE
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, text)| *text)
}

/// No sample of this type; `suggestions` are the closest known types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe_unknown(kind, suggestions))]
pub struct UnknownType {
    /// The type asked for.
    pub kind: String,
    /// Known types close to it, closest first.
    pub suggestions: Vec<&'static str>,
}

fn describe_unknown(kind: &str, suggestions: &[&str]) -> String {
    let mut message = format!("no sample event of type `{kind}`");
    if !suggestions.is_empty() {
        message.push_str("; did you mean ");
        message.push_str(&suggestions.join(", "));
        message.push('?');
    }
    message.push_str(" (`herald trigger --list` shows every type)");
    message
}

/// `kind`'s sample as Stripe would send it now: `id` set to `id`, `created` to
/// `now`, and every timestamp inside moved by as much, so a dispute's deadline or a
/// trial's end lies as far ahead of the event as in the stored sample.
///
/// # Errors
/// When there is no sample of `kind`: the error lists close matches.
pub fn sample(kind: &str, now: i64, id: &str) -> Result<Value, UnknownType> {
    let text = text(kind).ok_or_else(|| UnknownType {
        kind: kind.to_owned(),
        suggestions: close_matches(kind),
    })?;
    let Ok(mut event) = serde_json::from_str::<Value>(text) else {
        unreachable!("samples are checked to be JSON by the tests")
    };
    let created = event.get("created").and_then(Value::as_i64).unwrap_or(now);
    times::shift(&mut event, now.saturating_sub(created));
    event["id"] = Value::from(id);
    event["created"] = Value::from(now);
    Ok(event)
}

/// A fresh event id in Stripe's form: `evt_` and 24 letters and digits.
pub fn fresh_event_id() -> String {
    format!("evt_{}", Alphanumeric.sample_string(&mut rand::rng(), 24))
}

/// Known types that look like a mistyped or partial `kind`, closest first, at most five.
fn close_matches(kind: &str) -> Vec<&'static str> {
    let wanted = kind.to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = types()
        .filter_map(|known| {
            let distance = strsim::damerau_levenshtein(&wanted, known);
            let close = distance <= (known.len() / 6).max(2);
            let part = wanted.len() >= 3 && known.contains(wanted.as_str());
            (close || part).then_some((distance, known))
        })
        .collect();
    scored.sort_unstable();
    scored.into_iter().take(5).map(|(_, known)| known).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::stripe::{normalize, sign, verify};

    /// The types issue 21 asks `herald trigger` to know, besides the fixtures'.
    const REQUIRED: &[&str] = &[
        "payment_intent.created",
        "payment_intent.canceled",
        "payment_intent.requires_action",
        "charge.succeeded",
        "charge.failed",
        "charge.dispute.closed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "invoice.paid",
        "invoice.upcoming",
        "customer.subscription.updated",
        "customer.subscription.trial_will_end",
    ];

    fn normalized(event: &Value) -> herald_plugin_api::Event {
        let body = serde_json::to_vec(event).unwrap();
        let header = format!("t=1,v1={}", sign(&body, b"s", 1));
        normalize(verify(Some(&header), &body, b"s", 10, 1).unwrap()).unwrap()
    }

    #[test]
    fn there_is_a_sample_of_every_fixture_type_and_every_required_type() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stripe");
        let fixtures = std::fs::read_dir(dir).unwrap().map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.trim_end_matches(".json").to_owned()
        });
        let wanted: Vec<String> = fixtures
            .chain(REQUIRED.iter().map(|kind| (*kind).to_owned()))
            .collect();
        for kind in wanted {
            assert!(text(&kind).is_some(), "no sample of {kind}");
        }
    }

    #[test]
    fn every_sample_is_a_stripe_event_of_its_type_that_normalizes() {
        for (kind, text) in all() {
            let event: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(event["type"], kind, "{kind}: type");
            assert_eq!(event["object"], "event", "{kind}");
            assert_eq!(event["livemode"], false, "{kind}");
            if is_herald(kind) {
                // herald's own: the shape herald raises it in (src/dispatch/raised.rs).
                assert!(event["data"]["object"]["object"].is_string(), "{kind}");
                continue;
            }
            for field in ["api_version", "pending_webhooks", "request"] {
                assert!(event.get(field).is_some(), "{kind}: no {field}");
            }
            let id = event["id"].as_str().unwrap();
            assert!(id.starts_with("evt_") && id.len() == 28, "{kind}: id {id}");
            let normal = normalized(&event);
            assert_eq!(normal.kind, kind);
            assert!(
                event["data"]["object"]["object"].is_string(),
                "{kind}: data.object has no `object`"
            );
            if kind.starts_with("payment_intent.") || kind.starts_with("checkout.session.") {
                assert!(normal.order_id.is_some(), "{kind}: no order id");
                assert!(normal.customer.email.is_some(), "{kind}: no email");
            }
        }
    }

    #[test]
    fn a_sample_is_dated_now_with_the_given_id_and_its_times_moved_along() {
        let stored: Value = serde_json::from_str(text("charge.dispute.created").unwrap()).unwrap();
        let now = stored["created"].as_i64().unwrap() + 1_000;
        let event = sample("charge.dispute.created", now, "evt_x").unwrap();
        assert_eq!(event["id"], "evt_x");
        assert_eq!(event["created"], now);
        let due = |e: &Value| {
            e["data"]["object"]["evidence_details"]["due_by"]
                .as_i64()
                .unwrap()
        };
        assert_eq!(due(&event), due(&stored) + 1_000);
        assert_eq!(
            event["data"]["object"]["amount"],
            stored["data"]["object"]["amount"]
        );
        assert_eq!(normalized(&event).created, now);
    }

    #[test]
    fn an_unknown_type_names_the_closest_known_ones() {
        let err = sample("payment_intent.succeded", 0, "evt_x").unwrap_err();
        assert_eq!(err.suggestions.first(), Some(&"payment_intent.succeeded"));
        let message = err.to_string();
        assert!(message.contains("`payment_intent.succeded`"), "{message}");
        assert!(
            message.contains("did you mean payment_intent.succeeded"),
            "{message}"
        );

        let partial = sample("dispute", 0, "evt_x").unwrap_err();
        assert!(
            partial.suggestions.contains(&"charge.dispute.closed"),
            "{partial}"
        );

        let nothing = sample("zzzz.qqqq", 0, "evt_x").unwrap_err();
        assert!(nothing.suggestions.is_empty());
        assert!(nothing.to_string().contains("--list"), "{nothing}");
    }

    #[test]
    fn fresh_ids_look_like_stripe_ids_and_differ() {
        let (a, b) = (fresh_event_id(), fresh_event_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 28);
        assert!(a.starts_with("evt_"));
        assert!(a[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
