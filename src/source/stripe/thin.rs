//! Thin events: what a Stripe event destination sends in thin mode (`object:
//! "v2.core.event"`), naming the object that changed (`related_object`) instead of
//! carrying it. herald keeps the thin event, fetches the object from Stripe's API and
//! then routes the event as if it had come whole ([`ThinEvent::fattened`]).

use serde_json::{json, Value};

use super::normalize::NormalizeError;

/// What a thin event's envelope is marked with.
pub const THIN_OBJECT: &str = "v2.core.event";

/// A thin event, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThinEvent {
    pub id: String,
    /// The type as sent (`v1.payment_intent.succeeded`).
    pub kind: String,
    /// Unix seconds (thin events send an RFC 3339 time).
    pub created: i64,
    pub livemode: bool,
    /// The related object's id, type and API path.
    pub object_id: String,
    pub object_type: String,
    pub path: String,
}

impl ThinEvent {
    /// `envelope` read as a thin event.
    ///
    /// # Errors
    /// When a member is missing, or `related_object.url` is not a path of Stripe's
    /// API made of its own alphabet (it goes into a request herald sends).
    pub fn read(envelope: &Value) -> Result<Self, NormalizeError> {
        let text = |pointer: &str, missing: &'static str| {
            envelope
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
                .ok_or(NormalizeError::Shape(missing))
        };
        let created = match envelope.get("created") {
            Some(Value::String(time)) => chrono::DateTime::parse_from_rfc3339(time)
                .map(|time| time.timestamp())
                .map_err(|_| NormalizeError::Shape("`created` is not an RFC 3339 time"))?,
            Some(Value::Number(secs)) => secs
                .as_i64()
                .ok_or(NormalizeError::Shape("`created` is not a whole number"))?,
            _ => return Err(NormalizeError::Shape("missing field `created`")),
        };
        let path = text("/related_object/url", "missing `related_object.url`")?;
        if !safe_path(&path) {
            return Err(NormalizeError::Shape(
                "`related_object.url` is not a path of Stripe's API",
            ));
        }
        Ok(Self {
            id: text("/id", "missing string field `id`")?,
            kind: text("/type", "missing string field `type`")?,
            created,
            livemode: envelope.get("livemode").and_then(Value::as_bool) == Some(true),
            object_id: text("/related_object/id", "missing `related_object.id`")?,
            object_type: text("/related_object/type", "missing `related_object.type`")?,
            path,
        })
    }

    /// The type the rules know it by: a thin event about a v1 object is typed
    /// `v1.payment_intent.succeeded`, its snapshot twin `payment_intent.succeeded`.
    pub fn snapshot_type(&self) -> &str {
        self.kind.strip_prefix("v1.").unwrap_or(&self.kind)
    }

    /// The event as a snapshot event would carry it, with `object` (the related
    /// object as fetched now, or `None` when Stripe no longer has it: then only its
    /// id and type) as `data.object`.
    pub fn fattened(&self, object: Option<Value>, api_version: &str) -> Value {
        let object = object.unwrap_or_else(
            || json!({"id": self.object_id, "object": self.object_type, "deleted": true}),
        );
        json!({
            "id": self.id,
            "object": "event",
            "type": self.snapshot_type(),
            "created": self.created,
            "livemode": self.livemode,
            "api_version": api_version,
            "data": {"object": object},
            "related_object": {"id": self.object_id, "type": self.object_type, "url": self.path},
            "thin": true,
        })
    }
}

/// `/v1/…` or `/v2/…`, of letters, digits, `_`, `-`, `.` and `/`, without `..` or `//`.
fn safe_path(path: &str) -> bool {
    (path.starts_with("/v1/") || path.starts_with("/v2/"))
        && path.len() <= 256
        && !path.contains("..")
        && !path.contains("//")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thin(url: &str) -> Value {
        json!({
            "id": "evt_test_65R9", "object": "v2.core.event", "type": "v1.payment_intent.succeeded",
            "created": "2026-12-07T10:00:00.000Z", "livemode": false, "context": null,
            "related_object": {"id": "pi_1", "type": "payment_intent", "url": url},
        })
    }

    #[test]
    fn a_thin_event_reads_and_fattens_into_its_snapshot_twin() {
        let event = ThinEvent::read(&thin("/v1/payment_intents/pi_1")).expect("reads");
        assert_eq!(event.created, 1_796_637_600);
        assert_eq!(event.snapshot_type(), "payment_intent.succeeded");
        let object = json!({"id": "pi_1", "object": "payment_intent", "amount": 100});
        let fat = event.fattened(Some(object.clone()), "2026-07-29.dahlia");
        assert_eq!(fat["data"]["object"], object);
        assert_eq!(fat["type"], "payment_intent.succeeded");
        assert_eq!(fat["created"], 1_796_637_600);
        let gone = event.fattened(None, "v");
        assert_eq!(gone["data"]["object"]["id"], "pi_1");
    }

    #[test]
    fn a_related_url_that_leaves_stripes_api_is_refused() {
        for url in [
            "https://evil.example/v1/x",
            "//evil.example/v1/x",
            "/v1/../admin",
            "/v1/x?expand=y",
            "/v1/x#y",
            "/v3/x",
            "v1/x",
            "/v1/x%2f..",
            "/v1/ x",
        ] {
            assert!(ThinEvent::read(&thin(url)).is_err(), "{url}");
        }
    }
}
