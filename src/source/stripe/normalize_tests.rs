//! The normalizer's tests: both parses, the shapes refused, the fields read.

use super::super::verify::{sign, verify};
use super::*;

/// `body`, signed and verified, through `normalizer`.
fn through(
    normalizer: fn(Verified<'_>) -> Result<Event, NormalizeError>,
    body: &[u8],
) -> Result<Event, NormalizeError> {
    let sig = sign(body, b"s", 1);
    let header = format!("t=1,v1={sig}");
    let verified = verify(Some(&header), body, b"s", 10, 1).expect("signed");
    normalizer(verified)
}

fn normalized(body: &[u8]) -> Result<Event, NormalizeError> {
    through(normalize, body)
}

fn normalized_fields(body: &[u8]) -> Result<Event, NormalizeError> {
    through(normalize_fields, body)
}

#[test]
fn both_normalizers_refuse_a_thin_event_even_with_an_object() {
    let body = br#"{"id":"evt_1","object":"v2.core.event","type":"v1.charge.refunded","created":"2026-01-01T00:00:00Z","related_object":{"id":"ch_1","type":"charge","url":"/v1/charges/ch_1"},"data":{"object":{"id":"ch_1"}}}"#;
    assert!(normalized(body).is_err());
    assert!(normalized_fields(body).is_err());
}

#[test]
fn the_api_version_is_recorded_and_an_old_payload_without_one_still_reads() {
    let body = br#"{"id":"evt_1","type":"charge.refunded","created":1,"api_version":"2025-01-27.acacia","data":{"object":{"id":"ch_1"}}}"#;
    for event in [normalized(body), normalized_fields(body)] {
        let event = event.expect("reads");
        assert_eq!(event.api_version.as_deref(), Some("2025-01-27.acacia"));
    }
    let body =
        br#"{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1"}}}"#;
    assert_eq!(normalized(body).expect("reads").api_version, None);
}

#[test]
fn at_reads_what_pointer_reads() {
    fn paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Value::Object(map) = value {
            for (name, child) in map {
                let path = format!("{prefix}/{name}");
                out.push(path.clone());
                paths(child, &path, out);
            }
        }
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stripe");
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let body = std::fs::read(entry.expect("entry").path()).expect("fixture");
        let tree: Value = serde_json::from_slice(&body).expect("json");
        let mut all = vec![
            "/missing".to_owned(),
            "/data/object/missing/deeper".to_owned(),
        ];
        paths(&tree, "", &mut all);
        for path in all.iter().filter(|path| !path.contains('~')) {
            assert_eq!(at(&tree, path), tree.pointer(path), "{path}");
        }
    }
}

#[test]
fn the_pruned_parse_gives_the_same_event_as_the_whole_tree() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stripe");
    let mut bodies: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("fixtures")
        .map(|entry| std::fs::read(entry.expect("entry").path()).expect("fixture"))
        .collect();
    assert!(bodies.len() > 10, "the Stripe fixtures are there");
    let odd: &[&[u8]] = &[
        b"not json",
        b"[]",
        b"{} trailing",
        br#"{"id":"evt","type":"x","created":1}"#,
        br#"{"id":"evt","type":"x","created":"1","data":{"object":{}}}"#,
        br#"{"id":"evt","type":"x","created":18446744073709551615,"data":{"object":{}}}"#,
        br#"{"id":"evt","type":"x","created":1.5,"data":{"object":{}}}"#,
        br#"{"id":"","type":"x","created":1,"data":{"object":{}}}"#,
        br#"{"id":"evt","type":"x","created":1,"data":{"object":[]}}"#,
        // An escaped member name is the name it spells.
        br#"{"\u0069d":"evt_esc","type":"x","created":1,"data":{"object":{"amount":3}}}"#,
        // A raw control character in a member name is not JSON (found by fuzzing:
        // the pruned parse accepted it), with or without an escape beside it;
        // an escaped one is.
        b"{\"id\":\"e\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":{\"a\nb\":1}}}",
        b"{\"id\":\"e\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":{\"\\u0061\nb\":1}}}",
        br#"{"id":"e","type":"x","created":1,"data":{"object":{"a\nb":1,"\u0000":2}}}"#,
        // A surrogate escape that does not pair up is not JSON either, skipped or not;
        // one that does is (also found by fuzzing).
        br#"{"id":"e","type":"x","created":1,"data":{"skipped":"\ud83dL","object":{}}}"#,
        br#"{"id":"e","type":"x","created":1,"data":{"object":{"\uDE00":1}}}"#,
        br#"{"id":"e","type":"x","created":1,"data":{"skipped":"\ud83d\ude00\\ud800","object":{}}}"#,
        // A skipped number out of range is refused as well (also found by fuzzing);
        // one that rounds to zero is not.
        br#"{"id":"e","type":"x","created":1,"data":{"object":{"amoun-":1e400}}}"#,
        br#"{"id":"e","type":"x","created":1,"data":{"object":{"amoun-":-1e-400}}}"#,
        // Repeated members: the last one counts, in both.
        br#"{"id":"a","id":"b","type":"x","created":1,"data":{"object":{"amount":1,"amount":2}}}"#,
        // `latest_charge` unexpanded (an id), then expanded.
        br#"{"id":"e","type":"payment_intent.succeeded","created":1,"data":{"object":{
            "object":"payment_intent","latest_charge":"ch_1","amount":5.5,"currency":"EUR",
            "metadata":{"order_id":7},"shipping":{"name":["x"],"phone":null}}}}"#,
        br#"{"id":"e","type":"payment_intent.succeeded","created":1,"data":{"object":{
            "object":"payment_intent","latest_charge":{"billing_details":{"email":"b@example.com",
            "name":"B\u00e9","phone":"+1"}},"items":[{"metadata":{"order_id":"no"}}]}}}"#,
        br#"{"id":"e","type":"invoice.paid","created":1,"livemode":"yes","data":{"object":{
            "object":"invoice","customer_email":"c@example.com","amount_due":null,"total":9,
            "parent":{"subscription_details":{"metadata":{"order_id":"S1"}}}}}}"#,
    ];
    bodies.extend(odd.iter().map(|body| body.to_vec()));
    // Skipped values nested past serde_json's depth limit are refused too.
    for depth in [100, 200] {
        let (open, close) = ("[".repeat(depth), "]".repeat(depth));
        let nested = format!(
            r#"{{"id":"e","type":"x","created":1,"data":{{"object":{{}},"n":{open}{close}}}}}"#
        );
        bodies.push(nested.into_bytes());
    }
    for body in &bodies {
        let whole = normalized(body).map(|mut event| {
            event.raw = Payload::default();
            event
        });
        assert_eq!(
            normalized_fields(body),
            whole,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn refuses_bodies_that_are_not_events() {
    assert!(matches!(
        normalized(b"not json"),
        Err(NormalizeError::Json(_))
    ));
    assert!(matches!(normalized(b"[]"), Err(NormalizeError::Shape(_))));
    assert!(matches!(
        normalized(br#"{"id":"evt","type":"x","created":1}"#),
        Err(NormalizeError::Shape("missing object `data.object`"))
    ));
    assert!(matches!(
        normalized(br#"{"id":"evt","type":"x","created":"1","data":{"object":{}}}"#),
        Err(NormalizeError::Shape(_))
    ));
}

#[test]
fn takes_payment_intent_fields() {
    let event = normalized(
        br#"{"id":"evt_1","type":"payment_intent.succeeded","created":5,"livemode":false,
        "data":{"object":{"id":"pi_1","object":"payment_intent","amount":4998,"currency":"USD",
        "receipt_email":"a@example.com","metadata":{"order_id":"O1"},
        "shipping":{"name":"Jenny","phone":"+14155550123"}}}}"#,
    )
    .expect("normalized");
    assert_eq!(event.id, "evt_1");
    assert_eq!(event.kind, "payment_intent.succeeded");
    assert_eq!(event.object_id.as_deref(), Some("pi_1"));
    assert_eq!(event.order_id.as_deref(), Some("O1"));
    assert_eq!(event.amount, Some(4998));
    assert_eq!(event.currency.as_deref(), Some("usd"));
    assert_eq!(event.customer.email.as_deref(), Some("a@example.com"));
    assert_eq!(event.customer.phone.as_deref(), Some("+14155550123"));
    assert_eq!(event.customer.name.as_deref(), Some("Jenny"));
}

#[test]
fn missing_details_stay_none() {
    let event = normalized(
        br#"{"id":"evt_2","type":"charge.dispute.created","created":5,
        "data":{"object":{"id":"dp_1","object":"dispute","amount":10,"metadata":{}}}}"#,
    )
    .expect("normalized");
    assert_eq!(event.order_id, None);
    assert_eq!(event.customer, Customer::default());
}
