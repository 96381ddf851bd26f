//! Stripe event JSON → [`Event`].
//!
//! Stripe puts the customer's contact details in a different place for each kind
//! of object; this is the one place that knows where.

use herald_plugin_api::{Customer, Event};
use serde_json::Value;

use super::verify::Verified;

/// The source name Stripe events carry.
pub const SOURCE: &str = "stripe";

/// A verified body that is not a Stripe event herald can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// Not JSON at all.
    #[error("body is not valid JSON: {0}")]
    Json(String),
    /// JSON, but not an event object.
    #[error("not a Stripe event: {0}")]
    Shape(&'static str),
}

/// Parses a verified Stripe event.
///
/// # Errors
/// When the body is not JSON or lacks `id`, `type`, `created` or `data.object`.
pub fn normalize(verified: Verified<'_>) -> Result<Event, NormalizeError> {
    let raw: Value = serde_json::from_slice(verified.body())
        .map_err(|err| NormalizeError::Json(err.to_string()))?;
    let id = raw
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or(NormalizeError::Shape("missing string field `id`"))?
        .to_owned();
    let kind = raw
        .get("type")
        .and_then(Value::as_str)
        .filter(|kind| !kind.is_empty())
        .ok_or(NormalizeError::Shape("missing string field `type`"))?
        .to_owned();
    let created = raw
        .get("created")
        .and_then(Value::as_i64)
        .ok_or(NormalizeError::Shape("missing integer field `created`"))?;
    let livemode = raw
        .get("livemode")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let object = raw
        .pointer("/data/object")
        .filter(|object| object.is_object())
        .ok_or(NormalizeError::Shape("missing object `data.object`"))?;

    Ok(Event {
        id,
        source: SOURCE.to_owned(),
        kind,
        created,
        livemode,
        object_id: text(object, "/id"),
        order_id: order_id(object),
        customer: customer(object),
        amount: amount(object),
        currency: text(object, "/currency").map(|c| c.to_ascii_lowercase()),
        raw,
    })
}

/// A non-empty string at `pointer`.
fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The first non-empty string among `pointers`.
fn first_text(value: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|pointer| text(value, pointer))
}

fn object_kind(object: &Value) -> &str {
    object.get("object").and_then(Value::as_str).unwrap_or("")
}

fn order_id(object: &Value) -> Option<String> {
    let mut pointers = vec!["/metadata/order_id"];
    match object_kind(object) {
        "checkout.session" => pointers.push("/client_reference_id"),
        // Invoices of subscriptions carry the order id on the subscription details.
        "invoice" => pointers.push("/parent/subscription_details/metadata/order_id"),
        _ => {}
    }
    first_text(object, &pointers)
}

fn customer(object: &Value) -> Customer {
    let (email, phone, name): (&[&str], &[&str], &[&str]) = match object_kind(object) {
        "payment_intent" => (
            &["/receipt_email", "/latest_charge/billing_details/email"],
            &["/shipping/phone", "/latest_charge/billing_details/phone"],
            &["/shipping/name", "/latest_charge/billing_details/name"],
        ),
        "charge" => (
            &["/billing_details/email", "/receipt_email"],
            &["/billing_details/phone", "/shipping/phone"],
            &["/billing_details/name", "/shipping/name"],
        ),
        "checkout.session" => (
            &["/customer_details/email", "/customer_email"],
            &["/customer_details/phone"],
            &[
                "/customer_details/name",
                "/collected_information/shipping_details/name",
            ],
        ),
        "invoice" => (
            &["/customer_email"],
            &["/customer_phone"],
            &["/customer_name"],
        ),
        _ => (
            &["/receipt_email", "/email", "/customer_email"],
            &["/phone"],
            &["/name"],
        ),
    };
    Customer {
        email: first_text(object, email),
        phone: first_text(object, phone),
        name: first_text(object, name),
    }
}

fn amount(object: &Value) -> Option<i64> {
    let pointers: &[&str] = match object_kind(object) {
        "checkout.session" => &["/amount_total"],
        "invoice" => &["/amount_due", "/total"],
        _ => &["/amount"],
    };
    pointers
        .iter()
        .find_map(|pointer| object.pointer(pointer).and_then(Value::as_i64))
}

#[cfg(test)]
mod tests {
    use super::super::verify::{sign, verify};
    use super::*;

    fn normalized(body: &[u8]) -> Result<Event, NormalizeError> {
        let sig = sign(body, b"s", 1);
        let header = format!("t=1,v1={sig}");
        let verified = verify(Some(&header), body, b"s", 10, 1).expect("signed");
        normalize(verified)
    }

    #[test]
    fn refuses_bodies_that_are_not_events() {
        assert!(matches!(
            normalized(b"not json"),
            Err(NormalizeError::Json(_))
        ));
        assert!(matches!(normalized(b"[]"), Err(NormalizeError::Shape(_))));
        assert!(matches!(
            normalized(br#"{"id":"evt","type":"x","created":1}"#),
            Err(NormalizeError::Shape("missing object `data.object`"))
        ));
        assert!(matches!(
            normalized(br#"{"id":"evt","type":"x","created":"1","data":{"object":{}}}"#),
            Err(NormalizeError::Shape(_))
        ));
    }

    #[test]
    fn takes_payment_intent_fields() {
        let event = normalized(
            br#"{"id":"evt_1","type":"payment_intent.succeeded","created":5,"livemode":false,
            "data":{"object":{"id":"pi_1","object":"payment_intent","amount":4998,"currency":"USD",
            "receipt_email":"a@example.com","metadata":{"order_id":"O1"},
            "shipping":{"name":"Jenny","phone":"+14155550123"}}}}"#,
        )
        .expect("normalized");
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.kind, "payment_intent.succeeded");
        assert_eq!(event.object_id.as_deref(), Some("pi_1"));
        assert_eq!(event.order_id.as_deref(), Some("O1"));
        assert_eq!(event.amount, Some(4998));
        assert_eq!(event.currency.as_deref(), Some("usd"));
        assert_eq!(event.customer.email.as_deref(), Some("a@example.com"));
        assert_eq!(event.customer.phone.as_deref(), Some("+14155550123"));
        assert_eq!(event.customer.name.as_deref(), Some("Jenny"));
    }

    #[test]
    fn missing_details_stay_none() {
        let event = normalized(
            br#"{"id":"evt_2","type":"charge.dispute.created","created":5,
            "data":{"object":{"id":"dp_1","object":"dispute","amount":10,"metadata":{}}}}"#,
        )
        .expect("normalized");
        assert_eq!(event.order_id, None);
        assert_eq!(event.customer, Customer::default());
    }
}
