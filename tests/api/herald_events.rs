//! Events of herald's own (issue 30): a sale that takes a SKU low raises
//! `herald.stock_low`, stored with source `herald` and routed by the rules like a
//! Stripe event; a herald event's jobs never raise another.

use herald::store::JobStatus;
use herald_testkit::assert_contains;
use serde_json::Value;

use crate::helpers::{base_config, rule, spawn_app_with};

/// A paid order of two tees and a mug, under event id `id`.
fn paid(id: &str) -> Vec<u8> {
    let mut event = herald_testkit::stripe::fixture_with_items(
        "payment_intent.succeeded",
        "SKU-TEE:2, SKU-MUG",
    );
    event["id"] = Value::from(id);
    serde_json::to_vec(&event).expect("json")
}

#[tokio::test]
async fn a_sale_that_takes_a_sku_low_raises_an_event_the_rules_route() {
    let config = [
        base_config(),
        "[plugins.email.ops]\ntransport = \"file\"\noutbox = \"outbox\"\nfrom = \"Shop <shop@example.com>\"\n"
            .to_owned(),
        "[plugins.inventory.stock]\nlow_stock_at = 3\n".to_owned(),
        rule("stock", r#"["payment_intent.succeeded"]"#, r#"plugin = "stock""#),
        rule(
            "stock-alert",
            r#"["herald.stock_low"]"#,
            r#"plugin = "ops", template = "stock_low", to = "{{shop.support_email}}""#,
        ),
        // A rule that would loop if a herald event's job could raise one: it takes
        // the low SKU lower still.
        rule(
            "take-more",
            r#"["herald.*"]"#,
            r#"plugin = "stock", adjust = "decrement", items = "{{data.object.sku}}:5""#,
        ),
    ]
    .concat();
    let app = spawn_app_with(&config).await;
    let (ok, _, err) = crate::helpers::cli(
        &app.config_path(),
        &["inventory", "SKU-TEE", "--adjust", "4"],
    )
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = crate::helpers::cli(
        &app.config_path(),
        &["inventory", "SKU-MUG", "--adjust", "10"],
    )
    .await;
    assert!(ok, "{err}");

    assert_eq!(app.post_webhook(&paid("evt_low")).await.status(), 200);
    let jobs = app.settle("evt_low").await;
    assert_eq!(jobs[0].status, JobStatus::Delivered, "{jobs:?}");
    app.dispatch_all_pending().await;

    // One herald event: SKU-TEE went 4 → 2 (at or below 3); SKU-MUG 10 → 9 did not.
    let (ok, out, err) = crate::helpers::cli(
        &app.config_path(),
        &["events", "--type", "herald.*", "--json"],
    )
    .await;
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).expect("json");
    let events = listed["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{out}");
    assert_eq!(events[0]["source"], "herald", "{out}");
    assert_eq!(events[0]["type"], "herald.stock_low", "{out}");
    let id = events[0]["id"].as_str().expect("id").to_owned();
    let herald_jobs = app.store.jobs_for_event("herald", &id).await.expect("jobs");
    assert!(
        herald_jobs
            .iter()
            .all(|job| job.status == JobStatus::Delivered),
        "{herald_jobs:?}"
    );
    assert_eq!(herald_jobs.len(), 2, "{herald_jobs:?}");
    // The take-more job moved SKU-TEE below zero, yet raised nothing: no loop.
    let (ok, out, _) = crate::helpers::cli(&app.config_path(), &["inventory", "SKU-TEE"]).await;
    assert!(ok && out.split_whitespace().any(|w| w == "-3"), "{out}");

    let mails = app.outbox();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_contains(
        &mails[0],
        &[
            "Low stock: SKU-TEE at 2",
            "Level now:    2",
            "Low at:       3",
            "ORDER12345",
        ],
    );
}
