//! Stories: sequences of samples about one case (ORDER12345's payment, charge, dispute,
//! review, refund), sent in order by `herald trigger --story NAME` so an operator can
//! watch a whole case go through, the links tying each event to the order.

use serde_json::Value;

use super::{fresh_event_id, set, text, times, Assignment};

/// Every story: its name, what it shows, and its steps in the order sent. A step is
/// an event type, then any `PATH=VALUE` changes to its sample, as `--set` takes them
/// (a second attempt of an invoice, a `created` that keeps the story in order).
pub const STORIES: &[(&str, &str, &[&str])] = &[
    (
        "order-paid",
        "a checkout paid by card",
        &[
            "payment_intent.created",
            "payment_intent.succeeded",
            "charge.succeeded",
            "checkout.session.completed",
        ],
    ),
    (
        "payment-failed",
        "a declined card, then a payment that goes through",
        &[
            "payment_intent.created created=1789927100",
            "payment_intent.payment_failed",
            "charge.failed",
            "payment_intent.succeeded",
            "charge.succeeded",
        ],
    ),
    (
        "order-disputed",
        "a paid order disputed, evidence sent, the dispute won",
        &[
            "payment_intent.succeeded",
            "charge.succeeded",
            "charge.dispute.created",
            "charge.dispute.updated",
            "charge.dispute.closed",
        ],
    ),
    (
        "early-fraud-warning",
        "a payment held for review, approved, then warned of by the card's issuer",
        &[
            "payment_intent.succeeded",
            "charge.succeeded",
            "review.opened",
            "review.closed",
            "radar.early_fraud_warning.created",
        ],
    ),
    (
        "subscription",
        "a subscription created, its renewal failed twice then paid, canceled at period end",
        &[
            "customer.created",
            "customer.subscription.created created=1789923700",
            "invoice.payment_failed",
            "invoice.payment_failed data.object.attempt_count=2 \
             data.object.next_payment_attempt=1793037600 created=1792778500",
            "invoice.paid data.object.id=in_1RWSNqHrLd9Tsti0xTEfYiW3 \
             data.object.attempt_count=3 created=1793037700",
            "customer.subscription.updated created=1793100000",
            "customer.subscription.deleted",
        ],
    ),
    (
        "refund",
        "a paid order refunded in full",
        &[
            "payment_intent.succeeded",
            "charge.succeeded",
            "refund.created",
            "charge.refunded",
            "refund.updated",
        ],
    ),
];

/// No story of that name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no story `{0}`; there are: {names}", names = names())]
pub struct UnknownStory(pub String);

fn names() -> String {
    STORIES
        .iter()
        .map(|(name, _, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Story `name`'s events, each with a fresh id, their timestamps moved together so the
/// last happens at `now` and the others as long before as in the samples.
///
/// # Errors
/// When there is no story of that name.
pub fn story(name: &str, now: i64) -> Result<Vec<Value>, UnknownStory> {
    let (_, _, kinds) = STORIES
        .iter()
        .find(|(known, _, _)| *known == name)
        .ok_or_else(|| UnknownStory(name.to_owned()))?;
    let mut events: Vec<Value> = kinds.iter().filter_map(|step| event_of(step)).collect();
    let latest = events
        .iter()
        .filter_map(|event| event.get("created").and_then(Value::as_i64))
        .max()
        .unwrap_or(now);
    for event in &mut events {
        times::shift(event, now.saturating_sub(latest));
        event["id"] = Value::from(fresh_event_id());
    }
    Ok(events)
}

/// A story step's event: its type's sample with the step's changes.
fn event_of(step: &str) -> Option<Value> {
    let mut words = step.split_whitespace();
    let mut event: Value = serde_json::from_str(text(words.next()?)?).ok()?;
    for change in words {
        let assignment: Assignment = change.parse().ok()?;
        set(&mut event, &assignment).ok()?;
    }
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_story_is_told_by_samples_that_exist() {
        for (name, _, kinds) in STORIES {
            for step in *kinds {
                assert!(
                    event_of(step).is_some(),
                    "{name}: no sample, or a bad change: {step}"
                );
            }
            let events = story(name, 2_000_000_000).expect("a story");
            assert_eq!(events.len(), kinds.len(), "{name}");
            let created: Vec<i64> = events
                .iter()
                .filter_map(|event| event["created"].as_i64())
                .collect();
            assert_eq!(created.iter().max(), Some(&2_000_000_000), "{name}");
            assert!(
                created.is_sorted(),
                "{name}: sent in the order they happened: {created:?}"
            );
        }
    }

    #[test]
    fn an_unknown_story_names_the_known_ones() {
        let err = story("order-dispute", 1).unwrap_err().to_string();
        assert!(
            err.contains("order-disputed") && err.contains("refund"),
            "{err}"
        );
    }
}
