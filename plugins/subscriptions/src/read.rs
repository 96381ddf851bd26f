//! What a Stripe event tells of a subscription: the deliver stage turns each
//! `customer.subscription.*` and `invoice.*` event into an [`Observation`] here.

use herald_plugin_api::Event;
use serde_json::Value;

use crate::ledger::{Entitlements, Item, Observation, Snapshot, SubscriptionStatus};

/// What an event tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Subscription `.0` as observed.
    Subscription(String, Observation),
    /// A customer's active entitlements.
    Entitlements(Entitlements),
    /// Nothing about a subscription (an invoice of no subscription, another type).
    Nothing,
    /// A subscription event without a field its meaning depends on (named).
    Unreadable(&'static str),
}

/// What `event` tells, from its type and `data.object`.
pub fn read(event: &Event) -> Reading {
    let object = event.raw.pointer("/data/object").unwrap_or(&Value::Null);
    let kind = event.kind.as_str();
    if let Some(what) = kind.strip_prefix("customer.subscription.") {
        return subscription(object, what == "deleted");
    }
    if kind.starts_with("invoice.") {
        let parent = object.pointer("/parent/subscription_details/subscription");
        let subscription = parent
            .or_else(|| object.get("subscription"))
            .and_then(id_of);
        return match (subscription, text(object, "id")) {
            (Some(subscription), Some(id)) => Reading::Subscription(
                subscription,
                Observation::Invoice {
                    id,
                    status: text(object, "status"),
                },
            ),
            _ => Reading::Nothing,
        };
    }
    if kind == "entitlements.active_entitlement_summary.updated" {
        let Some(customer) = text(object, "customer") else {
            return Reading::Unreadable("data.object.customer");
        };
        let features = list(object.pointer("/entitlements/data"))
            .filter_map(|entitlement| {
                text(entitlement, "lookup_key")
                    .or_else(|| entitlement.get("feature").and_then(id_of))
            })
            .collect();
        return Reading::Entitlements(Entitlements {
            customer,
            features,
            created: event.created,
        });
    }
    Reading::Nothing
}

/// A `customer.subscription.*` object.
fn subscription(object: &Value, deleted: bool) -> Reading {
    let Some(id) = text(object, "id") else {
        return Reading::Unreadable("data.object.id");
    };
    let Some(status) = text(object, "status").and_then(|status| status.parse().ok()) else {
        return Reading::Unreadable("data.object.status");
    };
    let status = if deleted {
        SubscriptionStatus::Canceled
    } else {
        status
    };
    let items_data = || list(object.pointer("/items/data"));
    let items = items_data()
        .map(|item| Item {
            price: item.get("price").and_then(id_of),
            product: item.pointer("/price/product").and_then(id_of),
            nickname: item
                .pointer("/price/nickname")
                .and_then(Value::as_str)
                .map(str::to_owned),
            quantity: item.get("quantity").and_then(Value::as_i64),
        })
        .collect();
    // Billing periods sit on the items since 2025; older versions had them on the
    // subscription.
    let current_period_end = items_data()
        .filter_map(|item| item.get("current_period_end").and_then(Value::as_i64))
        .max()
        .or_else(|| object.get("current_period_end").and_then(Value::as_i64));
    Reading::Subscription(
        id,
        Observation::Snapshot(Snapshot {
            customer: object.get("customer").and_then(id_of),
            status,
            items,
            current_period_end,
            cancel_at_period_end: object.get("cancel_at_period_end").and_then(Value::as_bool)
                == Some(true),
            cancel_at: object.get("cancel_at").and_then(Value::as_i64),
            trial_end: object.get("trial_end").and_then(Value::as_i64),
            latest_invoice: object.get("latest_invoice").and_then(id_of),
            deleted,
        }),
    )
}

/// A string member.
fn text(object: &Value, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// An id, or the id of an expanded object.
fn id_of(value: &Value) -> Option<String> {
    value
        .as_str()
        .or_else(|| value.get("id").and_then(Value::as_str))
        .map(str::to_owned)
}

/// The elements of an array, none when it is not one.
fn list(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reading(kind: &str, object: Value) -> Reading {
        read(&herald_testkit::event(kind, object))
    }

    #[test]
    fn invoices_name_their_subscription_under_parent_or_the_older_field() {
        let current = json!({ "id": "in_1", "status": "paid",
            "parent": { "subscription_details": { "subscription": "sub_1" } } });
        let older = json!({ "id": "in_1", "subscription": "sub_1" });
        for object in [current, older] {
            match reading("invoice.paid", object) {
                Reading::Subscription(id, Observation::Invoice { id: invoice, .. }) => {
                    assert_eq!((id.as_str(), invoice.as_str()), ("sub_1", "in_1"));
                }
                other => panic!("{other:?}"),
            }
        }
        let one_off = json!({ "id": "in_2", "status": "paid" });
        assert_eq!(reading("invoice.paid", one_off), Reading::Nothing);
    }

    #[test]
    fn a_subscription_without_a_known_status_cannot_be_read() {
        let object = json!({ "id": "sub_1", "status": "frozen" });
        assert_eq!(
            reading("customer.subscription.updated", object),
            Reading::Unreadable("data.object.status")
        );
        assert_eq!(reading("charge.succeeded", json!({})), Reading::Nothing);
    }
}
