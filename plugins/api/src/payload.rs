//! The provider's payload: kept as the text received, parsed only when read as a tree.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use serde_json::Value;

use crate::json_text;

/// The payload of an [`Event`](crate::Event), whole.
///
/// It holds the JSON text and builds the `serde_json::Value` on first use: a plugin
/// that copies out a member or two (the webhook's built-in body) reads the text
/// with [`Payload::at`] and never pays for the tree. Everything else reads the tree
/// through `Deref` (`event.raw.pointer("/data/object")`, `event.raw["id"]`) as before.
#[derive(Clone)]
pub struct Payload {
    text: String,
    tree: OnceLock<Value>,
}

impl Payload {
    /// The payload of `text`, which should be JSON (herald checks it on receipt).
    ///
    /// Text that is not JSON reads as `null`.
    #[must_use]
    pub fn from_text(text: String) -> Self {
        Self {
            text,
            tree: OnceLock::new(),
        }
    }

    /// The payload of a webhook body: its text, or, for a body that is not UTF-8,
    /// a copy with U+FFFD in place of each bad sequence.
    ///
    /// A body that parsed as JSON is UTF-8, so the lossy branch (checking as it
    /// copies, much slower) does not run in practice.
    #[must_use]
    pub fn from_body(body: &[u8]) -> Self {
        Self::from_text(match std::str::from_utf8(body) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(body).into_owned(),
        })
    }

    /// The JSON text, as received.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The payload as a tree, parsed the first time it is asked for.
    #[must_use]
    pub fn value(&self) -> &Value {
        self.tree
            .get_or_init(|| serde_json::from_str(&self.text).unwrap_or(Value::Null))
    }

    /// The text of the member at `path` (member names, outermost first), without
    /// building the tree: `at(&["data", "object"])` is the Stripe object.
    ///
    /// `None` when a member is missing or something on the way is not an object.
    #[must_use]
    pub fn at(&self, path: &[&str]) -> Option<&str> {
        json_text::member(&self.text, path)
    }
}

impl Default for Payload {
    /// No payload: `null`.
    fn default() -> Self {
        Value::Null.into()
    }
}

impl From<Value> for Payload {
    fn from(value: Value) -> Self {
        Self {
            text: value.to_string(),
            tree: OnceLock::from(value),
        }
    }
}

impl Deref for Payload {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl PartialEq for Payload {
    /// Equal when they hold the same JSON, whatever the spacing or member order.
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text || self.value() == other.value()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.value(), f)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_tree_is_built_only_when_read() {
        let payload = Payload::from_text(r#"{"data": {"object": {"id": "pi_1"}}}"#.to_owned());
        assert_eq!(payload.at(&["data", "object", "id"]), Some(r#""pi_1""#));
        assert!(payload.tree.get().is_none());
        assert_eq!(payload["data"]["object"]["id"], "pi_1");
        assert!(payload.tree.get().is_some());
    }

    #[test]
    fn equal_when_the_json_is_equal() {
        let spaced = Payload::from_text("{ \"a\": 1, \"b\": [true] }".to_owned());
        assert_eq!(spaced, Payload::from(json!({"b": [true], "a": 1})));
        assert_ne!(spaced, Payload::from(json!({"a": 2})));
        assert_eq!(Payload::default().text(), "null");
        assert_eq!(Payload::from_body(b"{\"a\": 1}").text(), "{\"a\": 1}");
        assert_eq!(Payload::from_body(b"\"\xff\"").text(), "\"\u{fffd}\"");
        assert_eq!(
            Payload::from_text("not json".to_owned()).value(),
            &Value::Null
        );
    }
}
