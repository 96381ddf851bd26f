//! The built-in body: the normalized event plus the Stripe object's useful parts.
//!
//! The normalized fields are serialized by serde, so every value is escaped
//! correctly. The object's parts (`data`, `shipping`, `line_items`) are copied from
//! the payload's text with the spacing taken out, never parsed into a tree: parsing
//! each payload at claim and serializing the tree again was a large share of herald's CPU
//! per delivery. So their members keep the provider's order and numbers keep every
//! digit. The body's own members are in alphabetical order.

use std::borrow::Cow;
use std::ops::Range;

use herald_plugin_api::json_text::{compact_members, member};
use herald_plugin_api::Job;
use serde::Serialize;

/// The built-in body of `job`, with `event_type` added when the action names one.
///
/// # Errors
/// When a normalized field does not serialize (it always does).
pub(crate) fn default_body(job: &Job<'_>, event_type: Option<&str>) -> serde_json::Result<Vec<u8>> {
    let event = job.event;
    let object = object_text(job);
    // The object without its spacing, and where its parts are in that copy.
    let mut compact = String::with_capacity(object.as_ref().map_or(0, |object| object.len()));
    let parts = object.as_deref().map_or_else(Default::default, |object| {
        let names = [
            "collected_information",
            "shipping_details",
            "shipping",
            "line_items",
        ];
        // A `data.object` that is not an object (an array, a string) is copied without parts.
        compact_members(object, names, &mut compact)
    });
    let part = |range: &Option<Range<usize>>| range.clone().map(|range| &compact[range]);
    let [collected, shipping_details, shipping, line_items] = &parts;
    // Checkout Sessions carry the address under `collected_information` (newer API
    // versions) or `shipping_details` (older); PaymentIntents and Charges under `shipping`.
    let shipping = part(collected)
        .and_then(|collected| present(member(collected, &["shipping_details"])))
        .or_else(|| present(part(shipping_details)))
        .or_else(|| present(part(shipping)));
    // Present only when the sender expanded `line_items`.
    let line_items = part(line_items).and_then(|items| present(member(items, &["data"])));
    let data = object.is_some().then_some(compact.as_str());

    let mut body = Body::with_capacity(compact.len() + 512);
    body.value("amount", &event.amount)?;
    body.value("created", &event.created)?;
    body.value("currency", &event.currency)?;
    body.value("customer", &event.customer)?;
    body.text("data", data);
    if let Some(event_type) = event_type {
        body.value("event_type", event_type)?;
    }
    body.value("id", &event.id)?;
    body.text("line_items", line_items);
    body.value("order_id", &event.order_id)?;
    body.text("shipping", shipping);
    body.value("type", &event.kind)?;
    Ok(body.finish())
}

/// The Stripe object's text: from the payload, or else from the context (tests and
/// tools hand over a context without a payload).
fn object_text<'a>(job: &Job<'a>) -> Option<Cow<'a, str>> {
    if let Some(object) = present(job.event.raw.at(&["data", "object"])) {
        return Some(Cow::Borrowed(object));
    }
    job.context
        .get()
        .pointer("/data/object")
        .filter(|value| !value.is_null())
        .map(|value| Cow::Owned(value.to_string()))
}

/// `text` unless it is JSON `null`.
fn present(text: Option<&str>) -> Option<&str> {
    text.filter(|text| *text != "null")
}

/// A JSON object written member by member.
struct Body {
    out: Vec<u8>,
}

impl Body {
    fn with_capacity(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.push(b'{');
        Self { out }
    }

    /// Writes `"name":`; names here are plain ASCII, no escaping needed.
    fn name(&mut self, name: &str) {
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn value<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> serde_json::Result<()> {
        self.name(name);
        serde_json::to_writer(&mut self.out, value)
    }

    /// A member whose value is compact JSON text, or `null` when there is none.
    fn text(&mut self, name: &str, text: Option<&str>) {
        self.name(name);
        self.out
            .extend_from_slice(text.unwrap_or("null").as_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.push(b'}');
        self.out
    }
}
