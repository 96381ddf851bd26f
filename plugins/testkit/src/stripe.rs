//! Stripe as tests see it: the repo's fixtures (`tests/fixtures/stripe/*.json`, real
//! events as Stripe sends them), the `Stripe-Signature` header herald verifies, and the
//! normalized [`Event`] of a whole Stripe event.
//!
//! The signature is written here rather than taken from herald, which this crate must
//! not depend on; herald's end-to-end tests post every fixture signed by it, so the two
//! cannot drift apart unnoticed.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use herald_plugin_api::{Customer, Event};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The folder of the Stripe fixtures.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/stripe"
    ))
}

/// A fixture's bytes, exactly as on disk (what Stripe signed).
///
/// # Panics
/// When there is no fixture `name`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(format!("{name}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture as JSON.
///
/// # Panics
/// When there is no fixture `name` or it is not JSON.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}.json: {e}"))
}

/// Every fixture's name, sorted.
///
/// # Panics
/// When the fixtures folder cannot be read.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures folder")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// A copy of a fixture with a new event id, so it is stored as a different event; the
/// rest of the bytes are kept as they are.
///
/// # Panics
/// When there is no fixture `name` or it has no string `id`.
pub fn fixture_with_id(name: &str, id: &str) -> Vec<u8> {
    let body = String::from_utf8(fixture(name)).expect("utf8");
    let value: Value = serde_json::from_str(&body).expect("json");
    let old = value["id"].as_str().expect("id").to_owned();
    body.replacen(&old, id, 1).into_bytes()
}

/// A fixture with the storefront's `data.object.metadata.items` set to `items`, as the
/// inventory plugin reads it.
///
/// # Panics
/// As [`fixture_json`].
pub fn fixture_with_items(name: &str, items: &str) -> Value {
    let mut event = fixture_json(name);
    event["data"]["object"]["metadata"]["items"] = json!(items);
    event
}

/// A minimal whole Stripe event: `id`, `type`, `created` and `data.object`.
pub fn event_json(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({ "id": id, "type": kind, "created": created, "data": { "object": object } })
}

/// The `v1` signature of `body` at `timestamp`: hex HMAC-SHA256 over `"{t}.{body}"`.
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A `Stripe-Signature` header for `body` signed at `timestamp`: `t=…,v1=…`.
pub fn signature_at(body: &[u8], secret: &str, timestamp: i64) -> String {
    format!("t={timestamp},v1={}", sign(body, secret, timestamp))
}

/// A `Stripe-Signature` header for `body`, signed now, as Stripe would send it.
pub fn signature(body: &[u8], secret: &str) -> String {
    signature_at(body, secret, now())
}

/// Unix seconds now.
fn now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is past 1970");
    i64::try_from(since.as_secs()).expect("seconds fit in i64")
}

/// The normalized event of a whole Stripe event, close to what herald makes of it: the
/// order id from `metadata.order_id` or a session's `client_reference_id`, the amount
/// from `amount` or `amount_total`; no customer.
///
/// # Panics
/// When `raw` lacks a string `id` and `type` or an integer `created`.
pub fn event_from(raw: Value) -> Event {
    let object = &raw["data"]["object"];
    let order_id = object["metadata"]["order_id"]
        .as_str()
        .or_else(|| object["client_reference_id"].as_str())
        .map(str::to_owned);
    Event {
        links: Vec::new(),
        id: raw["id"].as_str().expect("an event id").to_owned(),
        source: "stripe".to_owned(),
        kind: raw["type"].as_str().expect("an event type").to_owned(),
        created: raw["created"].as_i64().expect("a created time"),
        livemode: false,
        api_version: None,
        object_id: object["id"].as_str().map(str::to_owned),
        order_id,
        customer: Customer::default(),
        amount: object["amount"]
            .as_i64()
            .or_else(|| object["amount_total"].as_i64()),
        currency: object["currency"].as_str().map(str::to_owned),
        raw: raw.into(),
    }
}
