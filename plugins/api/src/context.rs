//! The document a job's templates render against, built the first time it is read.

use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::event::Event;

/// [`Event::context`] plus the `shop` values and the action's `params`.
///
/// Building it copies the payload twice (`data` and `raw`), a large share of
/// herald's CPU per delivery; a plugin that never renders a template (a webhook
/// posting its built-in body) never pays for it.
pub struct Context<'a> {
    parts: Option<Parts<'a>>,
    built: OnceLock<Value>,
}

/// What the document is built from.
struct Parts<'a> {
    event: &'a Event,
    shop: &'a Value,
    params: &'a Map<String, Value>,
}

impl<'a> Context<'a> {
    /// The context of `event`, with `shop` and `params` added when first read.
    #[must_use]
    pub fn new(event: &'a Event, shop: &'a Value, params: &'a Map<String, Value>) -> Self {
        Self {
            parts: Some(Parts {
                event,
                shop,
                params,
            }),
            built: OnceLock::new(),
        }
    }

    /// A document built already, as tests and tools hand one over.
    #[must_use]
    pub fn of_value(value: Value) -> Self {
        Self {
            parts: None,
            built: OnceLock::from(value),
        }
    }

    /// The document: top-level normalized fields, `data`, `raw`, `shop` and `params`.
    pub fn get(&self) -> &Value {
        self.built.get_or_init(|| {
            let Some(parts) = &self.parts else {
                return Value::Null;
            };
            let mut context = parts.event.context();
            if let Value::Object(map) = &mut context {
                map.insert("shop".to_owned(), parts.shop.clone());
                map.insert("params".to_owned(), Value::Object(parts.params.clone()));
            }
            context
        })
    }
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The payload is customer data and large; say only whether it was built.
        f.debug_struct("Context")
            .field("built", &self.built.get().is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn built_on_first_read_with_shop_and_params() {
        let event: Event = serde_json::from_value(json!({
            "id": "evt_1", "source": "stripe", "type": "charge.refunded", "created": 1,
            "livemode": false, "object_id": null, "order_id": "ord_1",
            "customer": {"email": null, "phone": null, "name": null},
            "amount": 500, "currency": "usd"
        }))
        .map(|mut event: Event| {
            event.raw = json!({"data": {"object": {"amount": 500}}}).into();
            event
        })
        .expect("event");
        let shop = json!({"name": "Shop"});
        let params = json!({"template": "refund"});
        let params = params.as_object().expect("object");
        let context = Context::new(&event, &shop, params);
        assert!(format!("{context:?}").contains("built: false"));

        let mut expected = event.context();
        expected["shop"] = shop.clone();
        expected["params"] = Value::Object(params.clone());
        assert_eq!(context.get(), &expected);
        assert_eq!(context.get()["data"]["object"]["amount"], 500);
        assert!(format!("{context:?}").contains("built: true"));
    }

    #[test]
    fn a_ready_document_is_read_as_given() {
        let context = Context::of_value(json!({"a": 1}));
        assert_eq!(context.get(), &json!({"a": 1}));
    }
}
