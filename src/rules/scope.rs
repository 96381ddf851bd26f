//! What a rule's `when` sees: the event's context (`Event::context`), without
//! copying the payload into it.
//!
//! `data.…` and `raw.…` paths are read from the payload (`event.raw`, whose tree
//! is built on the first such lookup); everything else from the normalized fields.
//! Building the whole context cloned the payload twice per event, a large share of the
//! receiver's CPU under load.

use std::cell::OnceCell;

use herald_plugin_api::Event;
use serde_json::Value;

use super::condition::{is_order_id, lookup, Scope};

/// An event's context, looked up lazily.
pub struct EventScope<'a> {
    /// The normalized fields (small: the payload is not among them), made on
    /// first use: rules without `when` never need them.
    fields: OnceCell<Value>,
    event: &'a Event,
}

impl<'a> EventScope<'a> {
    /// The scope of `event`.
    pub fn new(event: &'a Event) -> Self {
        Self {
            fields: OnceCell::new(),
            event,
        }
    }

    fn raw(&self) -> &Value {
        self.event.raw.value()
    }

    /// Whether `path` is a contact field of a customer the event names by id only
    /// (see `Customer::named_only`), which the directory fills at delivery.
    fn lacks_contact(&self, path: &[String]) -> bool {
        let customer = &self.event.customer;
        if !customer.named_only() {
            return false;
        }
        match path {
            [first, field] if first == "customer" => match field.as_str() {
                "email" => customer.email.is_none(),
                "name" => customer.name.is_none(),
                "phone" => customer.phone.is_none(),
                "locales" => customer.locales.is_empty(),
                _ => false,
            },
            _ => false,
        }
    }
}

impl Scope for EventScope<'_> {
    /// `order.…` is the order at delivery, unknown while the event is routed; so is
    /// `order_id` when the payload lacks it but names other objects, through which
    /// it may be found at delivery, and a `customer.…` contact field the payload
    /// lacks for a customer id it names, which the directory may fill at delivery.
    fn defers(&self, path: &[String]) -> bool {
        path.first().is_some_and(|first| first == "order")
            || (is_order_id(path) && self.event.order_id.is_none() && !self.event.links.is_empty())
            || self.lacks_contact(path)
    }

    fn lookup(&self, path: &[String]) -> Option<&Value> {
        match path.split_first() {
            Some((first, rest)) if first == "raw" => lookup(self.raw(), rest),
            Some((first, rest)) if first == "data" => lookup(self.raw().get("data")?, rest),
            _ => {
                let fields = self
                    .fields
                    .get_or_init(|| serde_json::to_value(self.event).unwrap_or(Value::Null));
                lookup(fields, path)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use herald_plugin_api::Payload;
    use serde_json::json;

    use super::*;

    #[test]
    fn every_path_reads_what_the_full_context_holds() {
        let raw =
            json!({"id": "evt_1", "data": {"object": {"amount": 500, "items": [{"sku": "A"}]}}});
        let event: Event = serde_json::from_value(json!({
            "id": "evt_1", "source": "stripe", "type": "payment_intent.succeeded",
            "created": 1, "livemode": false, "object_id": "pi_1", "order_id": "o-1",
            "customer": {"email": "a@example.com", "phone": null, "name": null},
            "amount": 500, "currency": "usd"
        }))
        .map(|mut e: Event| {
            e.raw = raw.into();
            e
        })
        .expect("event");
        let context = event.context();
        let scope = EventScope::new(&event);
        let paths = [
            "customer.email",
            "type",
            "amount",
            "order_id",
            "data.object.amount",
            "data.object.items.0.sku",
            "raw.id",
            "raw.data.object",
            "missing",
            "data.missing",
        ];
        // The same payload as text, as the receiver holds it: parsed on first lookup.
        let mut as_text = event.clone();
        as_text.raw = Payload::from_text(event.raw.text().to_owned());
        let lazy = EventScope::new(&as_text);
        for path in paths {
            let path: Vec<String> = path.split('.').map(str::to_owned).collect();
            assert_eq!(scope.lookup(&path), lookup(&context, &path), "{path:?}");
            assert_eq!(lazy.lookup(&path), lookup(&context, &path), "{path:?}");
        }
    }
}
