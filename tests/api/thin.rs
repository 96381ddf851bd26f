//! Thin events (issue 32): a Stripe event destination in thin mode sends only the id of
//! the object that changed. herald acknowledges once it has kept the event, fetches
//! the object from Stripe's API (a fake on loopback here), then stores and routes the
//! event as its snapshot twin would be.

use herald_testkit::stripe_api::FakeStripe;
use serde_json::{json, Value};

use crate::helpers::{sample, shipped_config_in, spawn_app_in, spawn_app_with, TestApp};

/// A thin event about payment intent `object_id`.
fn thin(id: &str, object_id: &str) -> Vec<u8> {
    json!({
        "id": id, "object": "v2.core.event", "type": "v1.payment_intent.succeeded",
        "created": chrono::Utc::now().to_rfc3339(), "livemode": false, "context": null,
        "reason": null,
        "related_object": {
            "id": object_id, "type": "payment_intent",
            "url": format!("/v1/payment_intents/{object_id}"),
        },
    })
    .to_string()
    .into_bytes()
}

async fn app_against(fake: &FakeStripe) -> TestApp {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut table: toml::Table = toml::from_str(&shipped_config_in(dir.path())).expect("toml");
    let stripe = table["sources"]["stripe"].as_table_mut().expect("stripe");
    stripe.insert("api_key".into(), "rk_test_thin".into());
    stripe.insert("api_base".into(), fake.url().into());
    stripe.insert("api_requests_per_second".into(), 50.into());
    spawn_app_in(dir, &toml::to_string(&table).expect("toml")).await
}

/// Waits (at most 30 s) until `id` is stored whole.
async fn stored(app: &TestApp, id: &str) -> herald::store::EventDetail {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(detail) = app.store.event_detail("stripe", id).await.expect("read") {
            return detail;
        }
        assert!(tokio::time::Instant::now() < deadline, "{id} never stored");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_thin_event_is_completed_from_the_api_and_routed_like_its_snapshot_twin() {
    let fake = FakeStripe::start(Vec::new()).await;
    let object = sample("payment_intent.succeeded")["data"]["object"].clone();
    let pi = object["id"].as_str().expect("id").to_owned();
    fake.set_object(&format!("/v1/payment_intents/{pi}"), object.clone());
    let app = app_against(&fake).await;

    let answer = app.post_webhook(&thin("evt_thin_1", &pi)).await;
    assert_eq!(answer.status(), 200);
    let ack: Value = answer.json().await.expect("json");
    assert_eq!(
        (ack["duplicate"].as_bool(), ack["jobs"].as_u64()),
        (Some(false), Some(0))
    );
    let detail = stored(&app, "evt_thin_1").await;
    assert_eq!(detail.event.kind, "payment_intent.succeeded");
    assert_eq!(detail.event.object_id.as_deref(), Some(pi.as_str()));
    assert_eq!(detail.event.amount, object["amount"].as_i64());
    let jobs = app
        .store
        .jobs_for_event("stripe", "evt_thin_1")
        .await
        .expect("jobs");
    let rules: Vec<&str> = jobs.iter().map(|job| job.rule.as_str()).collect();
    assert!(
        rules.contains(&"order-status"),
        "routed by the shipped rules: {rules:?}"
    );
    let fetched: Vec<_> = fake.seen().into_iter().map(|seen| seen.path).collect();
    assert_eq!(fetched, [format!("/v1/payment_intents/{pi}")]);
    assert!(app
        .store
        .waiting_thin("stripe")
        .await
        .expect("read")
        .is_empty());

    // Stripe sends it again: acknowledged as a duplicate, nothing fetched.
    let again: Value = app
        .post_webhook(&thin("evt_thin_1", &pi))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["duplicate"].as_bool(), Some(true));
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn an_object_stripe_no_longer_has_is_routed_with_its_id_only() {
    let fake = FakeStripe::start(Vec::new()).await;
    let app = app_against(&fake).await;
    assert_eq!(
        app.post_webhook(&thin("evt_thin_gone", "pi_gone"))
            .await
            .status(),
        200
    );
    let detail = stored(&app, "evt_thin_gone").await;
    assert_eq!(detail.event.object_id.as_deref(), Some("pi_gone"));
    assert_eq!(fake.seen()[0].status, 404);
}

#[tokio::test]
async fn a_thin_event_without_an_api_key_is_refused_so_stripe_keeps_it() {
    let app = spawn_app_with(&crate::helpers::base_config()).await;
    let answer = app.post_webhook(&thin("evt_thin_2", "pi_1")).await;
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.expect("json");
    assert_eq!(body["reason"], "thin_needs_api_key", "{body}");
    assert!(
        body["error"].as_str().expect("error").contains("api_key"),
        "{body}"
    );
}

#[tokio::test]
async fn a_thin_event_naming_a_url_off_stripes_api_is_refused() {
    let fake = FakeStripe::start(Vec::new()).await;
    let app = app_against(&fake).await;
    let mut body: Value = serde_json::from_slice(&thin("evt_thin_3", "pi_1")).expect("json");
    body["related_object"]["url"] = "https://attacker.example/v1/x".into();
    let answer = app.post_webhook(body.to_string().as_bytes()).await;
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.expect("json");
    assert_eq!(body["reason"], "bad_payload", "{body}");
    assert!(fake.seen().is_empty());
}

#[tokio::test]
async fn a_failed_fetch_waits_its_turn_and_a_completed_event_waits_no_more() {
    for (name, store, _guard) in crate::helpers::backends().await {
        let kept = store
            .keep_thin("stripe", "evt_a", "{}", 1_000)
            .await
            .expect("keep");
        assert!(kept, "{name}");
        assert!(
            !store
                .keep_thin("stripe", "evt_a", "{}", 2_000)
                .await
                .expect("keep"),
            "{name}"
        );
        store
            .thin_failed("stripe", "evt_a", "Stripe said 500", 60_000)
            .await
            .expect("fail");
        assert!(
            store
                .due_thin("stripe", 59_999, 10)
                .await
                .expect("due")
                .is_empty(),
            "{name}"
        );
        let due = store.due_thin("stripe", 60_000, 10).await.expect("due");
        assert_eq!(due.len(), 1, "{name}");
        assert_eq!(
            (due[0].attempts, due[0].last_error.as_deref()),
            (1, Some("Stripe said 500"))
        );
        assert_eq!(
            due[0].received_at, 1_000,
            "{name}: the receipt time is kept"
        );
        store.thin_done("stripe", "evt_a").await.expect("done");
        assert!(
            store.waiting_thin("stripe").await.expect("read").is_empty(),
            "{name}"
        );
    }
}
