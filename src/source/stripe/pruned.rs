//! A JSON tree of only the members normalization reads.
//!
//! Building the whole payload as a `serde_json::Value` (and freeing it) was a
//! large share of the receiver's CPU per webhook, though normalization reads a dozen
//! short strings. This parser walks the same bytes, checks the same syntax, and
//! keeps only the members listed in [`EVENT`]; everything else is checked as the
//! full parse checks it (numbers in range, strings valid, nesting limited) and
//! dropped without allocating. The result is read with the same pointers as the
//! full tree.
//!
//! Unlike the full tree it does not check UTF-8 in member names; the store checks
//! the whole payload (storing a lossy copy of one that is not UTF-8).

use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::{Map, Value};

/// Members of an object to keep.
#[derive(Clone, Copy)]
pub(super) struct Keep(&'static [(&'static str, Below)]);

/// What to keep of a kept member.
#[derive(Clone, Copy)]
enum Below {
    /// The whole value (a string, number or small object).
    All,
    /// Only these members, if it is an object.
    Some(Keep),
}

const CONTACT: Keep = Keep(&[
    ("email", Below::All),
    ("phone", Below::All),
    ("name", Below::All),
    ("preferred_locales", Below::All),
    ("locale", Below::All),
]);
const METADATA: Keep = Keep(&[("order_id", Below::All)]);
/// A reference to another object: its id, or the object itself when expanded.
const REFERENCE: Keep = Keep(&[("id", Below::All)]);

/// Every member of a Stripe object that `normalize` looks at.
const OBJECT: Keep = Keep(&[
    ("id", Below::All),
    ("object", Below::All),
    ("currency", Below::All),
    ("amount", Below::All),
    ("amount_total", Below::All),
    ("amount_due", Below::All),
    ("total", Below::All),
    ("metadata", Below::Some(METADATA)),
    ("client_reference_id", Below::All),
    (
        "parent",
        Below::Some(Keep(&[(
            "subscription_details",
            Below::Some(Keep(&[
                ("metadata", Below::Some(METADATA)),
                ("subscription", Below::Some(REFERENCE)),
            ])),
        )])),
    ),
    ("customer", Below::Some(REFERENCE)),
    ("payment_intent", Below::Some(REFERENCE)),
    ("charge", Below::Some(REFERENCE)),
    ("invoice", Below::Some(REFERENCE)),
    ("subscription", Below::Some(REFERENCE)),
    ("latest_invoice", Below::Some(REFERENCE)),
    (
        "payment",
        Below::Some(Keep(&[
            ("payment_intent", Below::Some(REFERENCE)),
            ("charge", Below::Some(REFERENCE)),
        ])),
    ),
    ("receipt_email", Below::All),
    (
        "latest_charge",
        Below::Some(Keep(&[
            ("id", Below::All),
            ("billing_details", Below::Some(CONTACT)),
        ])),
    ),
    ("billing_details", Below::Some(CONTACT)),
    ("shipping", Below::Some(CONTACT)),
    ("customer_details", Below::Some(CONTACT)),
    ("customer_email", Below::All),
    ("customer_phone", Below::All),
    ("customer_name", Below::All),
    (
        "collected_information",
        Below::Some(Keep(&[("shipping_details", Below::Some(CONTACT))])),
    ),
    ("email", Below::All),
    ("phone", Below::All),
    ("name", Below::All),
    ("preferred_locales", Below::All),
    ("locale", Below::All),
]);

/// The event envelope and its object.
pub(super) const EVENT: Keep = Keep(&[
    ("id", Below::All),
    ("type", Below::All),
    ("created", Below::All),
    ("livemode", Below::All),
    ("api_version", Below::All),
    ("object", Below::All),
    ("related_object", Below::All),
    (
        "data",
        Below::Some(Keep(&[("object", Below::Some(OBJECT))])),
    ),
]);

/// Parses `body`, keeping what `keep` lists.
///
/// # Errors
/// When `body` is not one JSON value, exactly as `serde_json::from_slice` would.
pub(super) fn parse(body: &[u8], keep: Keep) -> serde_json::Result<Value> {
    match parse_pruned(body, keep) {
        // Rare (Stripe escapes no member name): let the full parser decide.
        Err(err) if err.is_data() && err.to_string().starts_with(UNSURE) => {
            serde_json::from_slice(body)
        }
        other => other,
    }
}

fn parse_pruned(body: &[u8], keep: Keep) -> serde_json::Result<Value> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = keep.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A member name read as bytes is not checked for control characters, which JSON
/// allows only escaped, nor for `\\u` surrogate escapes that do not pair up (which
/// come out as bytes that are not UTF-8); its escapes come decoded, so raw and
/// escaped control characters look alike. A body with such a name (never one from
/// Stripe) goes to the full parser, which refuses it exactly as `normalize` does, or
/// not. Both found by fuzzing.
const UNSURE: &str = "unusual member name";

fn is_unusual(name: &[u8]) -> bool {
    // 0xED then 0xA0..: a surrogate, as serde_json writes an unpaired one in bytes.
    name.iter().any(|&b| b < 0x20) || name.windows(2).any(|w| w[0] == 0xED && w[1] >= 0xA0)
}

/// A value normalization does not read: checked by serde_json as for the full tree,
/// but not kept. (`IgnoredAny` checks less: it takes `1e400`, unpaired surrogate
/// escapes and any depth, which the full parse refuses; found by fuzzing.)
#[derive(Clone, Copy)]
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Key(Keep(&[])))?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Keep {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A member name, looked up in the list without being copied.
struct Key(Keep);

impl Key {
    fn find(&self, name: &[u8]) -> Option<(&'static str, Below)> {
        let Key(Keep(members)) = self;
        members
            .iter()
            .find(|(key, _)| key.as_bytes() == name)
            .copied()
    }
}

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<(&'static str, Below)>;

    /// As bytes: serde_json then skips the UTF-8 check of every name, which was
    /// most of the receiver's UTF-8 checking. The names we keep are ASCII, so the
    /// match is the same, and the payload is checked whole when it is stored.
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_bytes(self)
    }
}

impl Visitor<'_> for Key {
    type Value = Option<(&'static str, Below)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_bytes<E: serde::de::Error>(self, name: &[u8]) -> Result<Self::Value, E> {
        if is_unusual(name) {
            return Err(E::custom(UNSURE));
        }
        Ok(self.find(name))
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.find(name.as_bytes()))
    }
}

impl<'de> Visitor<'de> for Keep {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(member) = map.next_key_seed(Key(self))? {
            match member {
                // A repeated member replaces the earlier one, as in a full tree.
                Some((name, Below::All)) => {
                    kept.insert(name.to_owned(), map.next_value::<Value>()?);
                }
                Some((name, Below::Some(keep))) => {
                    kept.insert(name.to_owned(), map.next_value_seed(keep)?);
                }
                None => {
                    map.next_value_seed(Skip)?;
                }
            }
        }
        Ok(Value::Object(kept))
    }

    /// No member normalization reads is inside an array.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(Value::Array(Vec::new()))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}
