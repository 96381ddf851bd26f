//! Fixtures, signatures and the normalized event.

use herald_testkit::stripe::{
    event_from, event_json, fixture, fixture_json, fixture_names, fixture_with_id,
    fixture_with_items, sign, signature, signature_at,
};
use serde_json::json;

#[test]
fn a_signature_is_hex_hmac_sha256_over_the_timestamp_and_body() {
    // Computed apart from this crate, with Python's hmac module.
    let expected = "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925";
    let body = br#"{"id":"evt_1"}"#;
    assert_eq!(sign(body, "whsec_test", 1_700_000_000), expected);
    assert_eq!(
        signature_at(body, "whsec_test", 1_700_000_000),
        format!("t=1700000000,v1={expected}")
    );
    assert_ne!(sign(body, "whsec_other", 1_700_000_000), expected);
}

#[test]
fn a_signature_now_carries_the_current_time() {
    let header = signature(b"{}", "whsec_test");
    let (t, v1) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .expect("t=…,v1=…");
    let t: i64 = t.parse().expect("seconds");
    assert!(t > 1_700_000_000, "{t}");
    assert_eq!(v1, sign(b"{}", "whsec_test", t));
}

#[test]
fn fixtures_load_as_bytes_and_json() {
    let names = fixture_names();
    assert!(names.len() >= 13, "{names:?}");
    assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "sorted");
    for name in &names {
        let value: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("json");
        assert_eq!(value, fixture_json(name), "{name}");
    }
}

#[test]
fn a_fixture_with_a_new_id_keeps_every_other_byte() {
    let original = fixture("payment_intent.succeeded");
    let old = fixture_json("payment_intent.succeeded")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let copy = fixture_with_id("payment_intent.succeeded", "evt_copy");
    let copy = String::from_utf8(copy).expect("utf8");
    assert_eq!(
        copy,
        String::from_utf8(original)
            .expect("utf8")
            .replacen(&old, "evt_copy", 1)
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&copy).expect("json")["id"],
        "evt_copy"
    );
}

#[test]
fn items_are_set_on_the_objects_metadata() {
    let event = fixture_with_items("charge.refunded", "SKU-MUG:1");
    assert_eq!(event["data"]["object"]["metadata"]["items"], "SKU-MUG:1");
    assert_eq!(event["id"], fixture_json("charge.refunded")["id"]);
}

#[test]
fn the_normalized_event_takes_the_ids_amount_and_order() {
    let session = event_from(fixture_json("checkout.session.completed"));
    assert_eq!(session.kind, "checkout.session.completed");
    assert_eq!(session.source, "stripe");
    assert!(session.order_id.is_some());
    assert!(session.amount.is_some(), "amount_total counts");

    let raw = event_json(
        "evt_x",
        "shop.order.settled",
        7,
        json!({ "id": "o_1", "metadata": { "order_id": "A1" }, "amount": 5, "currency": "eur" }),
    );
    let event = event_from(raw.clone());
    assert_eq!(
        (event.id.as_str(), event.kind.as_str(), event.created),
        ("evt_x", "shop.order.settled", 7)
    );
    assert_eq!(event.object_id.as_deref(), Some("o_1"));
    assert_eq!(event.order_id.as_deref(), Some("A1"));
    assert_eq!(
        (event.amount, event.currency.as_deref()),
        (Some(5), Some("eur"))
    );
    assert_eq!(event.raw.value(), &raw);
}
