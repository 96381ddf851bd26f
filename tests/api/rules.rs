//! Routing: conditions select events; unmatched events are stored without jobs.

use serde_json::Value;

use crate::helpers::{base_config, fixture, spawn_app_with};

fn config_with_rules(rules: &str) -> String {
    format!(
        r#"{base}
[plugins.email.mailer]
from = "Test Shop <shop@example.com>"
outbox = "outbox"

{rules}"#,
        base = base_config()
    )
}

#[tokio::test]
async fn a_rule_with_a_condition_routes_only_matching_events() {
    let app = spawn_app_with(&config_with_rules(
        r#"
[[rules]]
name = "big-payments"
on = ["payment_intent.*"]
when = "data.object.amount >= 4000 and data.object.status == 'succeeded'"
actions = [{ plugin = "mailer", template = "payment_succeeded", to = "{{customer.email}}" }]
"#,
    ))
    .await;
    let jobs_for = |response: Value| response["jobs"].as_u64().unwrap_or(99);
    let succeeded: Value = app
        .post_fixture("payment_intent.succeeded")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(jobs_for(succeeded), 1);
    let failed: Value = app
        .post_fixture("payment_intent.payment_failed")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(jobs_for(failed), 0);

    // The same event with a smaller amount does not match.
    let small = String::from_utf8(fixture("payment_intent.succeeded"))
        .expect("utf8")
        .replace("evt_1R4QrlHrLd9TstBbciwU1NSl", "evt_small")
        .replace("\"amount\": 4998", "\"amount\": 100");
    let small: Value = app
        .post_webhook(small.as_bytes())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(jobs_for(small), 0);

    assert_eq!(app.dispatch_all_pending().await, 1);
    assert_eq!(app.outbox().len(), 1);
}

#[tokio::test]
async fn an_event_no_rule_matches_is_stored_and_acknowledged_without_jobs() {
    let app = spawn_app_with(&config_with_rules(
        r#"
[[rules]]
name = "refunds"
on = ["charge.refunded"]
actions = [{ plugin = "mailer", template = "refund_issued", to = "{{customer.email}}" }]
"#,
    ))
    .await;
    let response = app.post_fixture("customer.subscription.created").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["jobs"], 0);
    assert_eq!(app.store.event_count().await.expect("count"), 1);
    assert_eq!(app.dispatch_all_pending().await, 0);
}

#[tokio::test]
async fn globs_match_every_event_of_a_family() {
    let app = spawn_app_with(&config_with_rules(
        r#"
[[rules]]
name = "charges"
on = ["charge.*"]
actions = [{ plugin = "mailer", template = "dispute_alert", to = "{{shop.support_email}}" }]
"#,
    ))
    .await;
    for (name, jobs) in [
        ("charge.refunded", 1),
        ("charge.dispute.created", 1),
        ("charge.succeeded", 1),
        ("refund.created", 0),
    ] {
        let body: Value = app.post_fixture(name).await.json().await.expect("json");
        assert_eq!(body["jobs"], jobs, "{name}");
    }
}
