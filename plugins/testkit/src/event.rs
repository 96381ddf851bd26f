//! The sample event plugin tests start from; a test changes the fields it is about with
//! struct update syntax (`Event { order_id: …, ..event(kind, object) }`).

use herald_plugin_api::{Customer, Event};
use serde_json::{json, Value};

/// The id of [`event()`]'s event.
pub const EVENT_ID: &str = "evt_1";

/// When [`event()`]'s event was created, in Unix seconds.
pub const CREATED: i64 = 1_700_000_000;

/// A test-mode Stripe event `evt_1` of kind `kind` about `object`: created at
/// [`CREATED`], for order `42`, 1999 in `usd`, from [`customer()`]. Its payload is
/// `{ "id", "type", "data": { "object": object } }`, and its object id the object's `id`.
pub fn event(kind: &str, object: Value) -> Event {
    Event {
        id: EVENT_ID.into(),
        source: "stripe".into(),
        kind: kind.into(),
        created: CREATED,
        livemode: false,
        api_version: None,
        object_id: object["id"].as_str().map(str::to_owned),
        order_id: Some("42".into()),
        links: Vec::new(),
        customer: customer(),
        amount: Some(1999),
        currency: Some("usd".into()),
        raw: json!({ "id": EVENT_ID, "type": kind, "data": { "object": object } }).into(),
    }
}

/// Ada, `ada@example.com`, without a phone number.
pub fn customer() -> Customer {
    Customer {
        id: None,
        email: Some("ada@example.com".into()),
        phone: None,
        name: Some("Ada".into()),
        locales: Vec::new(),
    }
}
