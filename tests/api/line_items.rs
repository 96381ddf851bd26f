//! Checkout line items from Stripe's API (issue 32): an inventory instance with
//! `line_items_from_stripe` takes a checkout session's stock from its line items when
//! the storefront wrote no `metadata.items`; without an API key the config says what
//! to set.

use herald::store::JobStatus;
use herald_testkit::stripe_api::FakeStripe;
use serde_json::{json, Value};

use herald::dispatch::ExecutionOutcome;
use herald_plugin_inventory::ledger::StockLedger;

use crate::helpers::{base_config, dispatcher_in, normalized, rule, sample, ClockedShop};

/// The config: an inventory instance asking for line items, its Stripe API at `fake`.
fn config_against(fake: &FakeStripe) -> String {
    let config = [
        base_config(),
        "[plugins.inventory.stock]\nline_items_from_stripe = true\n".to_owned(),
        rule(
            "stock",
            r#"["checkout.session.completed"]"#,
            r#"plugin = "stock""#,
        ),
    ]
    .concat();
    let mut table: toml::Table = toml::from_str(&config).expect("toml");
    let stripe = table["sources"]["stripe"].as_table_mut().expect("stripe");
    stripe.insert("api_key".into(), "rk_test_lines".into());
    stripe.insert("api_base".into(), fake.url().into());
    stripe.insert("api_requests_per_second".into(), 50.into());
    toml::to_string(&table).expect("toml")
}

async fn dispatch_all(shop: &ClockedShop) {
    while let ExecutionOutcome::JobsAttempted(_) = shop.dispatcher.run_once().await.expect("step") {
    }
}

/// A line of a checkout session, as `GET …/line_items` lists it.
fn line(price: Value, quantity: i64) -> Value {
    json!({"id": "li_1", "object": "item", "quantity": quantity, "price": price})
}

#[tokio::test]
async fn a_checkout_without_metadata_items_takes_its_stock_from_the_line_items() {
    let fake = FakeStripe::start(Vec::new()).await;
    let event = sample("checkout.session.completed");
    let session = event["data"]["object"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let lines = json!({"object": "list", "has_more": false, "data": [
        line(json!({"id": "price_1", "lookup_key": "SKU-TEE-M", "product": "prod_TEE"}), 2),
        line(json!({"id": "price_2", "lookup_key": null, "product": "prod_MUG"}), 1),
    ]});
    fake.set_object(
        &format!("/v1/checkout/sessions/{session}/line_items"),
        lines,
    );
    let dir = tempfile::TempDir::new().expect("dir");
    let clock = herald::clock::Clock::manual(herald::clock::now_ms());
    let shop = dispatcher_in(dir.path(), &config_against(&fake), &clock).await;
    shop.receive(&normalized(&event), clock.now_ms()).await;
    // Stripe keeps asking herald to wait: the job waits, spending no attempt.
    fake.throttle(5);
    dispatch_all(&shop).await;
    let id = event["id"].as_str().expect("id");
    let jobs = shop.store.jobs_for_event("stripe", id).await.expect("jobs");
    assert_eq!(
        (jobs[0].status, jobs[0].attempts),
        (JobStatus::Pending, 0),
        "{jobs:?}"
    );
    // Ten seconds on, it is asked again and delivered with the lines Stripe lists.
    clock.advance(std::time::Duration::from_secs(10));
    dispatch_all(&shop).await;
    let jobs = shop.store.jobs_for_event("stripe", id).await.expect("jobs");
    assert_eq!(jobs[0].status, JobStatus::Delivered, "{jobs:?}");
    let levels = shop.store.levels(None).await.expect("levels");
    assert!(levels.contains(&("SKU-TEE-M".to_owned(), -2)), "{levels:?}");
    assert!(levels.contains(&("prod_MUG".to_owned(), -1)), "{levels:?}");
    let asked = fake.seen().iter().filter(|seen| seen.status == 200).count();
    assert_eq!(asked, 1, "{:#?}", fake.seen());
}

#[test]
fn line_items_without_an_api_key_are_refused_with_what_to_set() {
    let config = [
        base_config(),
        "[plugins.inventory.stock]\nline_items_from_stripe = true\n".to_owned(),
    ]
    .concat();
    let dir = tempfile::TempDir::new().expect("dir");
    let err = herald::Config::from_toml(
        &config,
        &dir.path().join("c.toml"),
        &crate::helpers::test_env(),
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(
        err.contains("plugins.inventory.stock.line_items_from_stripe"),
        "{err}"
    );
    assert!(err.contains("api_key"), "{err}");
}
