//! The receiver: what it accepts, what it refuses and how it says so.

use crate::helpers::{fixture, fixture_names, repo, signature, spawn_app, SECRET};
use herald::source::stripe::sign;
use serde_json::Value;

#[tokio::test]
async fn every_fixture_is_acknowledged_with_200() {
    let app = spawn_app().await;
    let names = fixture_names();
    assert!(names.len() >= 13, "fixtures missing: {names:?}");
    for name in &names {
        let response = app.post_fixture(name).await;
        assert_eq!(response.status(), 200, "{name}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["received"], true, "{name}");
        assert_eq!(body["duplicate"], false, "{name}");
    }
    assert_eq!(
        app.store.event_count().await.expect("count"),
        i64::try_from(names.len()).expect("a few fixtures")
    );
}

#[tokio::test]
async fn a_duplicate_event_is_acknowledged_and_creates_nothing() {
    let app = spawn_app().await;
    let first = app.post_fixture("payment_intent.succeeded").await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.expect("json");
    assert_eq!(
        first["jobs"], 2,
        "the confirmation email and the order status"
    );
    let second = app.post_fixture("payment_intent.succeeded").await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.expect("json");
    assert_eq!(second["duplicate"], true);
    assert_eq!(second["jobs"], 0);
    let jobs = app.jobs("evt_1R4QrlHrLd9TstBbciwU1NSl").await;
    assert_eq!(jobs.len(), 2);
}

/// The walkthrough at the top of the README shows what herald answers to its fixture,
/// posted twice, on the shipped config; a rule added there changes those answers.
#[tokio::test]
async fn the_readme_walkthrough_shows_the_answers_herald_gives() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    // From the signed fixture on: `herald trigger`'s answer above it is checked in trigger.rs.
    let readme = &readme[readme
        .find("-- sign ")
        .expect("the walkthrough signs a fixture")..];
    let shown: Vec<Value> = readme
        .match_indices("{\"received\":")
        .take(2)
        .map(|(start, _)| {
            let end = start + readme[start..].find('}').expect("a closing brace") + 1;
            serde_json::from_str(&readme[start..end]).expect("the README's answer is JSON")
        })
        .collect();
    let app = spawn_app().await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = app.post_fixture("payment_intent.succeeded").await;
        answers.push(response.json::<Value>().await.expect("json"));
    }
    assert_eq!(answers, shown);
}

async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json error body");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_missing_or_garbled_signature_header_is_a_400() {
    let app = spawn_app().await;
    let body = fixture("payment_intent.succeeded");
    let (status, message) = refusal(app.post_raw(body.clone(), None).await).await;
    assert_eq!(status, 400);
    assert!(message.contains("missing Stripe-Signature"), "{message}");
    for garbled in ["garbage", "t=yesterday,v1=00", "v1=abcdef"] {
        let (status, _) = refusal(app.post_raw(body.clone(), Some(garbled.into())).await).await;
        assert_eq!(status, 400, "{garbled}");
    }
    let only_v0 = format!("t={},v0=abcdef", chrono::Utc::now().timestamp());
    let (status, message) = refusal(app.post_raw(body, Some(only_v0)).await).await;
    assert_eq!(status, 400);
    assert!(message.contains("no v1 signature"), "{message}");
}

#[tokio::test]
async fn a_bad_signature_is_a_401() {
    let app = spawn_app().await;
    let body = fixture("payment_intent.succeeded");
    let header = signature(&body);
    let mut tampered = body.clone();
    let pos = tampered.iter().position(|b| *b == b'4').expect("a digit");
    tampered[pos] = b'9';
    let (status, message) = refusal(app.post_raw(tampered, Some(header)).await).await;
    assert_eq!(status, 401);
    assert!(message.contains("no signature matches"), "{message}");
    assert_eq!(app.store.event_count().await.expect("count"), 0);
    assert_eq!(
        app.metrics.get(
            "herald_webhooks_rejected_total",
            &[("source", "stripe"), ("reason", "bad_signature")]
        ),
        1
    );
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_a_401_that_says_so() {
    let app = spawn_app().await;
    let body = fixture("payment_intent.succeeded");
    let now = chrono::Utc::now().timestamp();
    for t in [now - 3600, now + 3600] {
        let header = format!("t={t},v1={}", sign(&body, SECRET.as_bytes(), t));
        let (status, message) = refusal(app.post_raw(body.clone(), Some(header)).await).await;
        assert_eq!(status, 401);
        assert!(message.contains("timestamp outside tolerance"), "{message}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = spawn_app().await;
    let body = vec![b' '; 1024 * 1024 + 1];
    let header = signature(&body);
    let (status, _) = refusal(app.post_raw(body, Some(header)).await).await;
    assert_eq!(status, 413);
    assert_eq!(
        app.metrics.get(
            "herald_webhooks_rejected_total",
            &[("source", "stripe"), ("reason", "too_large")]
        ),
        1
    );
}

#[tokio::test]
async fn unparseable_json_with_a_valid_signature_is_a_400() {
    let app = spawn_app().await;
    for body in [&b"{not json"[..], b"[1,2,3]", br#"{"id":"evt_x"}"#] {
        let (status, message) = refusal(app.post_webhook(body).await).await;
        assert_eq!(status, 400, "{message}");
    }
}

#[tokio::test]
async fn an_unknown_source_is_a_404() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/webhooks/paypal"))
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let health = app.get(app.url("/healthz")).await;
    assert_eq!(health.status(), 200);
    let ready = app.get(app.url("/readyz")).await;
    assert_eq!(ready.status(), 200);
    app.post_raw(b"{}".to_vec(), None).await;
    let metrics = app
        .get(app.url("/metrics"))
        .await
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(
            r#"herald_webhooks_rejected_total{source="stripe",reason="missing_header"} 1"#
        ),
        "{metrics}"
    );
}

/// A signed `payment_intent.succeeded` whose `data.object` holds `depth` nested
/// objects and the storefront's items.
fn nested_event(id: &str, depth: usize) -> Vec<u8> {
    let mut event =
        herald_testkit::stripe::fixture_with_items("payment_intent.succeeded", "SKU-A:1");
    event["id"] = Value::from(id);
    let text = serde_json::to_string(&event).expect("json");
    let nested = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    text.replacen(
        "\"object\":{",
        &format!("\"object\":{{\"deep\":{nested},"),
        1,
    )
    .into_bytes()
}

#[tokio::test]
async fn a_payload_nested_too_deeply_is_refused_on_receipt_and_a_deep_one_is_read() {
    let config = format!(
        r#"{base}
[plugins.inventory.stock]

[[rules]]
name = "stock"
on = ["payment_intent.succeeded"]
actions = [{{ plugin = "stock" }}]
"#,
        base = crate::helpers::base_config()
    );
    let app = crate::helpers::spawn_app_with(&config).await;
    for depth in [herald::source::stripe::MAX_DEPTH, 100_000] {
        let response = app.post_webhook(&nested_event("evt_too_deep", depth)).await;
        assert_eq!(response.status(), 400, "{depth}");
        let body: Value = response.json().await.expect("json");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("nested too deeply")),
            "{body}"
        );
        assert_eq!(body["reason"], "bad_payload");
    }
    assert_eq!(app.store.event_count().await.expect("count"), 0);

    // Deep, but within what herald reads: the plugin sees the items beside it.
    let response = app.post_webhook(&nested_event("evt_deep", 100)).await;
    assert_eq!(response.status(), 200);
    let jobs = app.settle("evt_deep").await;
    assert_eq!(
        jobs[0].status,
        herald::store::JobStatus::Delivered,
        "{jobs:?}"
    );
}

/// `[sources.stripe] livemode = true` takes live-mode events only: a test-mode event
/// is refused with a 400 that says why, and stored nowhere; a live one goes in.
#[tokio::test]
async fn a_source_set_to_live_mode_refuses_a_test_mode_event() {
    let config = crate::helpers::base_config().replacen(
        "[sources.stripe]\n",
        "[sources.stripe]\nlivemode = true\n",
        1,
    );
    assert!(config.contains("livemode = true"), "{config}");
    let app = crate::helpers::spawn_app_with(&config).await;
    let mut event = herald_testkit::stripe::fixture_json("payment_intent.succeeded");
    assert_eq!(event["livemode"], false);
    let response = app
        .post_webhook(&serde_json::to_vec(&event).expect("json"))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["reason"], "livemode_mismatch", "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("a test-mode event")),
        "{body}"
    );
    assert_eq!(app.store.event_count().await.expect("count"), 0);
    event["livemode"] = true.into();
    let response = app
        .post_webhook(&serde_json::to_vec(&event).expect("json"))
        .await;
    assert_eq!(response.status(), 200);
}
