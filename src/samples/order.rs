//! Stripe's member order: `id` and `object` first, then the rest alphabetically.
//!
//! serde_json keeps members sorted, which puts an event's `id` after `data`; written
//! in Stripe's order the printed event reads as Stripe's own do.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// `value` as pretty JSON in Stripe's member order, with a final newline.
pub fn to_pretty_json(value: &Value) -> Vec<u8> {
    let Ok(mut out) = serde_json::to_vec_pretty(&StripeOrder(value)) else {
        unreachable!("a JSON value with string keys always serializes")
    };
    out.push(b'\n');
    out
}

struct StripeOrder<'a>(&'a Value);

impl Serialize for StripeOrder<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let first = ["id", "object"];
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for name in first {
                    if let Some(value) = map.get(name) {
                        out.serialize_entry(name, &StripeOrder(value))?;
                    }
                }
                for (name, value) in map {
                    if !first.contains(&name.as_str()) {
                        out.serialize_entry(name, &StripeOrder(value))?;
                    }
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&StripeOrder(item))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_comes_out_byte_for_byte_as_stored() {
        // The fixtures are written in Stripe's order; a round trip keeps every byte.
        for (kind, text) in crate::samples::all() {
            let value: Value = serde_json::from_str(text).unwrap();
            let out = String::from_utf8(to_pretty_json(&value)).unwrap();
            assert_eq!(out, text, "{kind}");
        }
    }
}
