//! `when` conditions: parse any text, and evaluate what parses against real events.
#![no_main]

use std::sync::OnceLock;

use herald::rules::Condition;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Contexts of several shapes: a Stripe event as templates see it, and odd values.
fn contexts() -> &'static [Value] {
    static CONTEXTS: OnceLock<Vec<Value>> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        vec![
            json!({
                "id": "evt_1", "type": "payment_intent.succeeded", "created": 1_789_927_243,
                "amount": 4998, "currency": "usd", "order_id": null,
                "customer": {"email": "a@example.com", "name": null},
                "data": {"object": {"amount": 4998, "amount_received": 4998.0,
                    "metadata": {"order_id": "ord_1"}, "items": [1, "two", {"x": [null]}],
                    "big": 18_446_744_073_709_551_615_u64, "neg": i64::MIN, "f": -1.5e300}},
            }),
            json!(null),
            json!([0, [1, [2]]]),
            json!({"": {"": ""}, "0": [true, false]}),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(condition) = Condition::parse(source) else {
        return;
    };
    for context in contexts() {
        let _ = condition.evaluate(context);
    }
});
