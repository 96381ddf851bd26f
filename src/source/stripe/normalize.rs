//! Stripe event JSON → [`Event`].
//!
//! Stripe puts the customer's contact details in a different place for each kind
//! of object; this is the one place that knows where.

use super::ThinEvent;
use herald_plugin_api::{Customer, Event, Payload};
use serde_json::Value;

use super::depth::{too_deep, MAX_DEPTH};
use super::pruned;
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
    /// JSON nested deeper than herald reads (no Stripe event comes close).
    #[error("payload nested too deeply: more than {MAX_DEPTH} levels of objects and arrays")]
    TooDeep,
}

/// Parses a verified Stripe event, keeping the whole payload in [`Event::raw`].
///
/// # Errors
/// When the body is not JSON or lacks `id`, `type`, `created` or `data.object`.
pub fn normalize(verified: Verified<'_>) -> Result<Event, NormalizeError> {
    let raw: Value =
        serde_json::from_slice(verified.body()).map_err(|err| json_error(verified.body(), &err))?;
    if raw.get("object").and_then(Value::as_str) == Some(super::THIN_OBJECT) {
        return Err(NOT_WHOLE);
    }
    let mut event = fields(&raw)?;
    event.raw = raw.into();
    Ok(event)
}

/// What both normalizers say of a thin event: it is not an event until completed.
const NOT_WHOLE: NormalizeError =
    NormalizeError::Shape("a thin event: its object must be fetched first");

/// [`normalize`] without the payload: [`Event::raw`] is left `Null`, for a caller
/// that keeps the body and parses it only if something asks (the receiver: a rule's
/// `when` on `data.…`). Reads only the members it needs, so it is much faster.
///
/// # Errors
/// Exactly those of [`normalize`].
pub fn normalize_fields(verified: Verified<'_>) -> Result<Event, NormalizeError> {
    match read_fields(verified)? {
        Incoming::Snapshot(event) => Ok(event),
        Incoming::Thin(_) => Err(NOT_WHOLE),
    }
}

/// What a verified body holds: an event whole, or a thin event naming its object.
#[derive(Debug)]
// Boxing the snapshot would cost every webhook an allocation to save a move.
#[allow(clippy::large_enum_variant)]
pub enum Incoming {
    /// As [`normalize_fields`] reads it.
    Snapshot(Event),
    /// A thin event (`object: "v2.core.event"`).
    Thin(ThinEvent),
}

/// [`normalize_fields`], telling a thin event apart instead of refusing it.
///
/// # Errors
/// Those of [`normalize`], and a thin event without what [`ThinEvent::read`] needs.
pub fn read_fields(verified: Verified<'_>) -> Result<Incoming, NormalizeError> {
    let pruned = pruned::parse(verified.body(), pruned::EVENT)
        .map_err(|err| json_error(verified.body(), &err))?;
    // The pruned parse skips what it does not keep at any depth; the whole tree,
    // which rules and plugins read later, cannot be built past the limit.
    if too_deep(verified.body()) {
        return Err(NormalizeError::TooDeep);
    }
    if pruned.get("object").and_then(Value::as_str) == Some(super::THIN_OBJECT) {
        return ThinEvent::read(&pruned).map(Incoming::Thin);
    }
    fields(&pruned).map(Incoming::Snapshot)
}

/// Why `body` did not parse: serde_json stops at its recursion limit with an error
/// of its own, which is said plainly here.
fn json_error(body: &[u8], err: &serde_json::Error) -> NormalizeError {
    if too_deep(body) {
        NormalizeError::TooDeep
    } else {
        NormalizeError::Json(err.to_string())
    }
}

/// The event's fields from its payload (whole, or pruned to what this reads).
fn fields(raw: &Value) -> Result<Event, NormalizeError> {
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
    let object = at(raw, "/data/object")
        .filter(|object| object.is_object())
        .ok_or(NormalizeError::Shape("missing object `data.object`"))?;

    Ok(Event {
        id,
        source: SOURCE.to_owned(),
        kind,
        created,
        livemode,
        api_version: text(raw, "/api_version"),
        object_id: text(object, "/id"),
        order_id: order_id(object),
        links: links(object),
        customer: customer(object),
        amount: amount(object),
        currency: text(object, "/currency").map(|c| c.to_ascii_lowercase()),
        raw: Payload::default(),
    })
}

/// `value.pointer(pointer)` for pointers of member names without `~` or `/`.
///
/// `Value::pointer` copies every segment to undo `~0` and `~1` escapes, which none
/// of ours hold: those copies showed in profiles under load.
fn at<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    debug_assert!(!pointer.contains('~'), "an escaped pointer: {pointer}");
    pointer
        .split('/')
        .skip(1)
        .try_fold(value, |value, name| value.get(name))
}

/// A non-empty string at `pointer`.
fn text(value: &Value, pointer: &str) -> Option<String> {
    at(value, pointer)
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

/// Where a Stripe object names the other objects of its case, each as an id or, when
/// expanded, as the object itself.
const LINKS: [&str; 9] = [
    "/payment_intent",
    "/charge",
    "/latest_charge",
    "/invoice",
    "/subscription",
    "/parent/subscription_details/subscription",
    "/latest_invoice",
    "/payment/payment_intent",
    "/payment/charge",
];

/// The ids of the other objects `object` names (its payment intent, charges, invoice,
/// subscription), in [`LINKS`] order, each once. The customer is `customer.id`.
fn links(object: &Value) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for pointer in LINKS {
        let id = at(object, pointer).and_then(|value| match value {
            Value::String(id) => Some(id.as_str()),
            Value::Object(_) => value.get("id").and_then(Value::as_str),
            _ => None,
        });
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            if !ids.iter().any(|known| known == id) {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

/// The contact a Stripe object carries (a payment intent's receipt email, a
/// customer's own fields, …), as the event's `customer` holds it.
pub fn customer(object: &Value) -> Customer {
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
    let id = match object_kind(object) {
        "customer" => text(object, "/id"),
        _ => text(object, "/customer").or_else(|| text(object, "/customer/id")),
    };
    Customer {
        id,
        email: first_text(object, email),
        phone: first_text(object, phone),
        name: first_text(object, name),
        locales: locales(object),
    }
}

/// A customer's `preferred_locales`, or a checkout session's `locale` (unless
/// `auto`, which says nothing of the customer).
fn locales(object: &Value) -> Vec<String> {
    let texts = |value: Option<&Value>| -> Vec<String> {
        value
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    match object_kind(object) {
        "customer" => texts(object.get("preferred_locales")),
        "checkout.session" => text(object, "/locale")
            .filter(|locale| locale != "auto")
            .into_iter()
            .collect(),
        _ => Vec::new(),
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
        .find_map(|pointer| at(object, pointer).and_then(Value::as_i64))
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
