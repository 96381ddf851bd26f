//! The normalized event: one shape for every webhook source.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::payload::Payload;

/// A verified webhook, normalized from its provider's JSON.
///
/// The fields a rule or template most often needs are lifted out of the payload;
/// the payload itself stays whole in [`Event::raw`] so nothing the provider sent is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The provider's event id (`evt_…` for Stripe); unique per source.
    pub id: String,
    /// The configured source that received it, e.g. `stripe`.
    pub source: String,
    /// The provider's event type, e.g. `payment_intent.succeeded`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the provider created the event, in Unix seconds.
    pub created: i64,
    /// Whether the event comes from live (real money) mode.
    pub livemode: bool,
    /// The provider's API version the payload is shaped on (Stripe's `api_version`:
    /// the endpoint's, at the time the event was created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The id of the object the event is about (`pi_…`, `ch_…`, `cs_…`).
    pub object_id: Option<String>,
    /// The shop's order id, taken from the object's metadata when present; for an
    /// event whose payload lacks it, herald fills it in at delivery through
    /// [`Event::links`].
    pub order_id: Option<String>,
    /// The ids of the other objects this event's object names (for Stripe: its
    /// payment intent, charge, invoice, subscription). herald records them
    /// as links, so an event that names only a charge still reaches its order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// Whom the event concerns, as far as the payload tells.
    pub customer: Customer,
    /// The amount in minor units (cents), when the object carries one.
    pub amount: Option<i64>,
    /// The ISO currency code in lower case, e.g. `usd`.
    pub currency: Option<String>,
    /// The provider's payload, kept whole: its text, and a tree built when read.
    #[serde(skip)]
    pub raw: Payload,
}

/// Contact details of the customer an event concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The provider's id for the customer (`cus_…`), when the payload names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Email address, when the provider gives one.
    pub email: Option<String>,
    /// Phone number as the provider gives it (usually E.164).
    pub phone: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Preferred languages, most preferred first (`fr-FR`, `en`), when the payload
    /// names them (a customer's `preferred_locales`, a checkout session's `locale`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locales: Vec<String>,
}

impl Event {
    /// The JSON document rules and templates see.
    ///
    /// It holds the normalized fields at the top level (`type`, `order_id`,
    /// `customer.email`, `amount`, …) and the provider's `data` member under `data`,
    /// so a condition reads `data.object.amount` just as the Stripe docs name it.
    /// `raw` holds the whole payload for anything else.
    pub fn context(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert(
                "data".to_owned(),
                self.raw.get("data").cloned().unwrap_or(Value::Null),
            );
            map.insert("raw".to_owned(), self.raw.value().clone());
        }
        value
    }
}

impl Customer {
    /// Whether it names the customer by id only, without an address (a subscription,
    /// an invoice of some API versions): herald then fills its contact from what
    /// earlier events told of that customer.
    pub fn named_only(&self) -> bool {
        self.id.is_some() && self.email.is_none()
    }
}
