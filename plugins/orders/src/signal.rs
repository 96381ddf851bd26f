//! What a Stripe event says about its order: the deliver stage turns each event into a
//! [`Signal`] here before recording it as a fact.

use herald_plugin_api::Event;
use serde_json::Value;

use crate::status::{OrderStatus, Signal};

/// What a closed review's reason means: only `approved` lifts the hold. A review closed
/// because the charge was refunded or disputed leaves the order held; the refund or the
/// dispute moves its status.
const REVIEW_APPROVED: &str = "approved";

/// What an event says about its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A signal, with its amount (the amount refunded so far, for refunds).
    Signal(Signal, Option<i64>),
    /// Nothing: a type that does not move an order's status (`charge.updated`,
    /// `payment_intent.processing`, …), or a dispute closed without a verdict.
    Nothing,
    /// A type that should say something, whose payload lacks the field its meaning
    /// depends on (named here).
    Unreadable(&'static str),
}

/// The signal a Stripe event carries, with its amount (the amount refunded so far, for
/// refunds), read from the event type and `data.object`.
///
/// `None` when the event says nothing herald can read ([`read`] tells which). A rule
/// can then force a status with the action's `status` parameter.
pub fn signal_for(event: &Event) -> Option<(Signal, Option<i64>)> {
    match read(event) {
        Reading::Signal(signal, amount) => Some((signal, amount)),
        Reading::Nothing | Reading::Unreadable(_) => None,
    }
}

/// What `event` says about its order, from its type and `data.object`.
pub fn read(event: &Event) -> Reading {
    let object = event.raw.pointer("/data/object").unwrap_or(&Value::Null);
    let signal = match event.kind.as_str() {
        "payment_intent.created" => OrderStatus::Pending,
        "payment_intent.succeeded" | "charge.succeeded" | "invoice.payment_succeeded" => {
            OrderStatus::Paid
        }
        // A session completes before an async payment (e.g. a bank debit) has settled.
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            if str_field(object, "payment_status") == Some("paid") {
                OrderStatus::Paid
            } else {
                OrderStatus::Pending
            }
        }
        "payment_intent.payment_failed"
        | "charge.failed"
        | "invoice.payment_failed"
        | "checkout.session.async_payment_failed" => OrderStatus::PaymentFailed,
        "charge.refunded" => return refund(object),
        "charge.dispute.created" => OrderStatus::Disputed,
        "charge.dispute.closed" => match str_field(object, "status") {
            Some("won") => OrderStatus::Paid,
            Some("lost") => OrderStatus::Refunded,
            // `warning_closed` and the like say nothing about the money.
            Some(_) => return Reading::Nothing,
            None => return Reading::Unreadable("data.object.status"),
        },
        "checkout.session.expired" | "payment_intent.canceled" => OrderStatus::Canceled,
        "radar.early_fraud_warning.created" | "review.opened" => {
            return Reading::Signal(Signal::Hold, None)
        }
        "review.closed" => {
            // `closed_reason` since 2024; `reason` before, and still filled alike.
            let reason = str_field(object, "closed_reason").or(str_field(object, "reason"));
            return match reason {
                Some(REVIEW_APPROVED) => Reading::Signal(Signal::Release, None),
                Some(_) => Reading::Nothing,
                None => Reading::Unreadable("data.object.closed_reason"),
            };
        }
        _ => return Reading::Nothing,
    };
    Reading::Signal(signal.into(), None)
}

/// A `charge.refunded` event: full or partial, by comparing what was refunded so far
/// with the charge's amount.
fn refund(object: &Value) -> Reading {
    let Some(refunded) = object.get("amount_refunded").and_then(Value::as_i64) else {
        return Reading::Unreadable("data.object.amount_refunded");
    };
    let amount = object.get("amount").and_then(Value::as_i64);
    // Stripe's own `refunded` flag means "fully refunded"; trust it when amounts are odd.
    let full = object.get("refunded").and_then(Value::as_bool) == Some(true)
        || amount.is_some_and(|amount| refunded >= amount);
    let signal = if full {
        OrderStatus::Refunded
    } else {
        OrderStatus::PartiallyRefunded
    };
    Reading::Signal(signal.into(), Some(refunded))
}

fn str_field<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_plugin_api::Customer;
    use serde_json::json;

    fn event(kind: &str, object: Value) -> Event {
        Event {
            id: "evt_1".into(),
            source: "stripe".into(),
            kind: kind.into(),
            created: 1,
            livemode: false,
            api_version: None,
            object_id: None,
            order_id: Some("O1".into()),
            links: Vec::new(),
            customer: Customer::default(),
            amount: None,
            currency: None,
            raw: json!({ "type": kind, "data": { "object": object } }).into(),
        }
    }

    fn signal(kind: &str, object: Value) -> Option<(Signal, Option<i64>)> {
        signal_for(&event(kind, object))
    }

    #[test]
    fn plain_types() {
        use OrderStatus::*;
        let cases = [
            ("payment_intent.created", Pending),
            ("payment_intent.succeeded", Paid),
            ("charge.succeeded", Paid),
            ("invoice.payment_succeeded", Paid),
            ("payment_intent.payment_failed", PaymentFailed),
            ("charge.failed", PaymentFailed),
            ("invoice.payment_failed", PaymentFailed),
            ("checkout.session.async_payment_failed", PaymentFailed),
            ("charge.dispute.created", Disputed),
            ("checkout.session.expired", Canceled),
            ("payment_intent.canceled", Canceled),
        ];
        for (kind, expected) in cases {
            assert_eq!(
                signal(kind, json!({})),
                Some((expected.into(), None)),
                "{kind}"
            );
        }
        assert_eq!(signal("customer.subscription.created", json!({})), None);
    }

    #[test]
    fn sessions_are_paid_only_when_paid() {
        for kind in [
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded",
        ] {
            let paid = signal(kind, json!({ "payment_status": "paid" }));
            assert_eq!(paid, Some((OrderStatus::Paid.into(), None)));
            let unpaid = signal(kind, json!({ "payment_status": "unpaid" }));
            assert_eq!(unpaid, Some((OrderStatus::Pending.into(), None)));
        }
    }

    #[test]
    fn refunds_full_or_partial() {
        let full = json!({ "amount": 4998, "amount_refunded": 4998 });
        assert_eq!(
            signal("charge.refunded", full),
            Some((OrderStatus::Refunded.into(), Some(4998)))
        );
        let partial = json!({ "amount": 4998, "amount_refunded": 1000, "refunded": false });
        assert_eq!(
            signal("charge.refunded", partial),
            Some((OrderStatus::PartiallyRefunded.into(), Some(1000)))
        );
        assert_eq!(signal("charge.refunded", json!({ "amount": 1 })), None);
    }

    #[test]
    fn dispute_closed_by_outcome() {
        let won = signal("charge.dispute.closed", json!({ "status": "won" }));
        assert_eq!(won, Some((OrderStatus::Paid.into(), None)));
        let lost = signal("charge.dispute.closed", json!({ "status": "lost" }));
        assert_eq!(lost, Some((OrderStatus::Refunded.into(), None)));
        let other = signal(
            "charge.dispute.closed",
            json!({ "status": "warning_closed" }),
        );
        assert_eq!(other, None);
    }

    #[test]
    fn fraud_warnings_and_reviews_hold_and_approval_releases() {
        let warning = signal("radar.early_fraud_warning.created", json!({}));
        assert_eq!(warning, Some((Signal::Hold, None)));
        assert_eq!(
            signal("review.opened", json!({})),
            Some((Signal::Hold, None))
        );
        let approved = json!({ "closed_reason": "approved", "reason": "approved" });
        assert_eq!(
            signal("review.closed", approved),
            Some((Signal::Release, None))
        );
        let legacy = json!({ "reason": "approved" });
        assert_eq!(
            signal("review.closed", legacy),
            Some((Signal::Release, None))
        );
        let refunded = event(
            "review.closed",
            json!({ "closed_reason": "refunded_as_fraud" }),
        );
        assert_eq!(read(&refunded), Reading::Nothing);
        let blank = event("review.closed", json!({}));
        assert_eq!(
            read(&blank),
            Reading::Unreadable("data.object.closed_reason")
        );
    }
}
