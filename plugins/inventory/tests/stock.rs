//! The inventory plugin end to end: real Stripe fixtures, with the storefront's
//! `metadata.items` added, delivered through the plugin into a [`MemoryLedger`].

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, BuildContext, Instance, Outcome, Plugin, PluginConfig, ValidateContext,
};
use std::collections::HashMap;

use herald_plugin_inventory::{
    validate_action, InventoryConfig, LedgerError, MemoryLedger, Moved, OrderApplied, OrderLines,
    StockLedger, StockMove, ValidatedInventory,
};
use herald_testkit::stripe::{event_from, fixture_json, fixture_with_items};
use herald_testkit::{failed_reason, params, Attempt, FakeTemplates};
use serde_json::{json, Map, Value};

const ITEMS: &str = "SKU-TEE-M:2, SKU-MUG:1";
const KEY: &str = "stripe:evt:rule:0";

/// A fixture with `data.object.metadata.items` set (or left out, for `None`).
fn with_items(name: &str, items: Option<&str>) -> Value {
    match items {
        Some(items) => fixture_with_items(name, items),
        None => fixture_json(name),
    }
}

async fn plugin_with(
    ledger: Arc<dyn StockLedger>,
    restock_partial_refunds: bool,
) -> Arc<dyn Plugin> {
    plugin_configured(
        ledger,
        ValidatedInventory {
            restock_partial_refunds,
            low_stock_at: None,
            max_concurrency: 8,
            line_items_from_stripe: false,
        },
    )
    .await
}

async fn plugin_configured(
    ledger: Arc<dyn StockLedger>,
    config: ValidatedInventory,
) -> Arc<dyn Plugin> {
    let cx = BuildContext::new(Arc::new(FakeTemplates))
        .with_stock_ledger(ledger)
        .for_instance("shop");
    config.build(&cx).await.expect("plugin builds")
}

/// A ledger stocked with 10 tees and 5 mugs, and a plugin writing to it.
async fn setup(restock_partial_refunds: bool) -> (Arc<MemoryLedger>, Arc<dyn Plugin>) {
    let ledger = Arc::new(MemoryLedger::with_levels([
        ("SKU-TEE-M", 10),
        ("SKU-MUG", 5),
    ]));
    let plugin = plugin_with(ledger.clone(), restock_partial_refunds).await;
    (ledger, plugin)
}

async fn deliver_with(
    plugin: &dyn Plugin,
    raw: Value,
    params: &Map<String, Value>,
    key: &str,
) -> Outcome {
    let attempt = Attempt::first("stock", key);
    herald_testkit::deliver(plugin, &event_from(raw), params, attempt).await
}

async fn deliver(plugin: &dyn Plugin, raw: Value, key: &str) -> Outcome {
    deliver_with(plugin, raw, &Map::new(), key).await
}

async fn levels(ledger: &MemoryLedger) -> Vec<(String, i64)> {
    ledger.levels(None).await.expect("levels")
}

fn level_list(mug: i64, tee: i64) -> Vec<(String, i64)> {
    vec![("SKU-MUG".to_owned(), mug), ("SKU-TEE-M".to_owned(), tee)]
}

#[tokio::test]
async fn a_paid_order_decrements_each_item() {
    let (ledger, plugin) = setup(false).await;
    let paid = with_items("payment_intent.succeeded", Some(ITEMS));
    assert_eq!(deliver(&*plugin, paid, KEY).await, Outcome::Delivered);
    assert_eq!(levels(&ledger).await, level_list(4, 8));
}

#[tokio::test]
async fn the_same_job_twice_moves_stock_once() {
    let (ledger, plugin) = setup(false).await;
    for _ in 0..2 {
        let paid = with_items("payment_intent.succeeded", Some(ITEMS));
        assert_eq!(deliver(&*plugin, paid, KEY).await, Outcome::Delivered);
    }
    assert_eq!(levels(&ledger).await, level_list(4, 8));
}

#[tokio::test]
async fn a_full_refund_restocks_to_the_start() {
    let (ledger, plugin) = setup(false).await;
    let paid = with_items("payment_intent.succeeded", Some(ITEMS));
    assert_eq!(deliver(&*plugin, paid, "k:paid").await, Outcome::Delivered);
    let refunded = with_items("charge.refunded", Some(ITEMS));
    assert_eq!(
        deliver(&*plugin, refunded, "k:refund").await,
        Outcome::Delivered
    );
    assert_eq!(levels(&ledger).await, level_list(5, 10));
}

fn partial_refund() -> Value {
    let mut raw = with_items("charge.refunded", Some(ITEMS));
    raw["data"]["object"]["amount_refunded"] = json!(1000);
    raw
}

#[tokio::test]
async fn a_partial_refund_does_not_restock_by_default() {
    let (ledger, plugin) = setup(false).await;
    let paid = with_items("payment_intent.succeeded", Some(ITEMS));
    deliver(&*plugin, paid, "k:paid").await;
    match deliver(&*plugin, partial_refund(), KEY).await {
        Outcome::Skipped { reason } => assert!(reason.contains("partial refund"), "{reason}"),
        other => panic!("expected Skipped, got {other:?}"),
    }
    assert_eq!(levels(&ledger).await, level_list(4, 8));
}

#[tokio::test]
async fn a_partial_refund_restocks_when_configured_never_more_than_was_taken() {
    let (ledger, plugin) = setup(true).await;
    let paid = with_items("payment_intent.succeeded", Some(ITEMS));
    deliver(&*plugin, paid, "k:paid").await;
    assert_eq!(
        deliver(&*plugin, partial_refund(), KEY).await,
        Outcome::Delivered
    );
    assert_eq!(levels(&ledger).await, level_list(5, 10));
    // The full refund after it finds nothing left out.
    let refunded = with_items("charge.refunded", Some(ITEMS));
    assert_eq!(
        deliver(&*plugin, refunded, "k:full").await,
        Outcome::Delivered
    );
    assert_eq!(levels(&ledger).await, level_list(5, 10));
}

#[tokio::test]
async fn an_order_announced_by_checkout_and_payment_takes_stock_once() {
    let (ledger, plugin) = setup(false).await;
    let session = with_items("checkout.session.completed", Some(ITEMS));
    let paid = with_items("payment_intent.succeeded", Some(ITEMS));
    assert_eq!(deliver(&*plugin, paid, "k:paid").await, Outcome::Delivered);
    match deliver(&*plugin, session, "k:session").await {
        Outcome::Skipped { reason } => assert!(reason.contains("already moved"), "{reason}"),
        other => panic!("expected Skipped, got {other:?}"),
    }
    assert_eq!(levels(&ledger).await, level_list(4, 8));
}

#[tokio::test]
async fn a_refund_naming_its_lines_puts_back_those_once_in_any_order() {
    let (ledger, plugin) = setup(false).await;
    let mut refund = with_items("refund.created", Some("SKU-MUG:1"));
    refund["data"]["object"]["metadata"]["order_id"] = json!("ORDER12345");
    // Before the payment: counted when the take comes.
    assert_eq!(
        deliver(&*plugin, refund.clone(), "k:refund").await,
        Outcome::Delivered
    );
    assert_eq!(levels(&ledger).await, level_list(5, 10));
    let paid = with_items("payment_intent.succeeded", Some(ITEMS));
    assert_eq!(deliver(&*plugin, paid, "k:paid").await, Outcome::Delivered);
    assert_eq!(levels(&ledger).await, level_list(5, 8));
    assert_eq!(
        deliver(&*plugin, refund, "k:refund").await,
        Outcome::Delivered
    );
    assert_eq!(levels(&ledger).await, level_list(5, 8));
}

#[tokio::test]
async fn missing_items_fail() {
    let (ledger, plugin) = setup(false).await;
    let reason =
        failed_reason(&deliver(&*plugin, with_items("payment_intent.succeeded", None), KEY).await);
    assert!(reason.contains("no line items"), "{reason}");
    assert!(reason.contains("metadata.items"), "{reason}");
    assert_eq!(levels(&ledger).await, level_list(5, 10));
}

#[tokio::test]
async fn empty_items_fail() {
    let (_, plugin) = setup(false).await;
    let raw = with_items("payment_intent.succeeded", Some("  "));
    let reason = failed_reason(&deliver(&*plugin, raw, KEY).await);
    assert!(reason.contains("no line items"), "{reason}");
}

#[tokio::test]
async fn bad_items_fail_naming_the_part() {
    let (ledger, plugin) = setup(false).await;
    let raw = with_items(
        "payment_intent.succeeded",
        Some("SKU-MUG:1, SKU-TEE-M:zero"),
    );
    let reason = failed_reason(&deliver(&*plugin, raw, KEY).await);
    assert!(reason.contains("SKU-TEE-M:zero"), "{reason}");
    // Nothing is applied when any part is bad.
    assert_eq!(levels(&ledger).await, level_list(5, 10));
}

#[tokio::test]
async fn an_unknown_event_type_needs_an_explicit_adjust() {
    let (ledger, plugin) = setup(false).await;
    let dispute = || with_items("charge.dispute.created", Some("SKU-MUG:2"));
    let reason = failed_reason(&deliver(&*plugin, dispute(), KEY).await);
    assert!(reason.contains("charge.dispute.created"), "{reason}");
    assert!(reason.contains("adjust = "), "{reason}");

    let decrement = params(json!({ "adjust": "decrement" }));
    let outcome = deliver_with(&*plugin, dispute(), &decrement, KEY).await;
    assert_eq!(outcome, Outcome::Delivered);
    assert_eq!(levels(&ledger).await, level_list(3, 10));
}

#[tokio::test]
async fn a_custom_items_template_is_rendered() {
    let (ledger, plugin) = setup(false).await;
    let mut raw = fixture_json("payment_intent.succeeded");
    raw["data"]["object"]["metadata"]["lines"] = json!("SKU-MUG");
    let action = params(json!({ "items": "{{data.object.metadata.lines}}" }));
    assert_eq!(
        deliver_with(&*plugin, raw, &action, KEY).await,
        Outcome::Delivered
    );
    assert_eq!(levels(&ledger).await, level_list(4, 10));
}

#[tokio::test]
async fn invalid_params_fail() {
    let (_, plugin) = setup(false).await;
    let raw = with_items("payment_intent.succeeded", Some(ITEMS));
    let action = params(json!({ "adjust": "up" }));
    let reason = failed_reason(&deliver_with(&*plugin, raw, &action, KEY).await);
    assert!(reason.contains("adjust"), "{reason}");
}

/// A ledger whose database is down.
struct DownLedger;

#[async_trait]
impl StockLedger for DownLedger {
    async fn apply(&self, _: &str, _: &str, _: &[StockMove]) -> Result<bool, LedgerError> {
        Err(LedgerError::Unavailable("connection refused".to_owned()))
    }

    async fn apply_to_order(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &OrderLines,
    ) -> Result<OrderApplied, LedgerError> {
        Err(LedgerError::Unavailable("connection refused".to_owned()))
    }

    async fn moved_by(&self, _: &str) -> Result<Vec<Moved>, LedgerError> {
        Err(LedgerError::Unavailable("connection refused".to_owned()))
    }

    async fn levels(&self, _: Option<&str>) -> Result<Vec<(String, i64)>, LedgerError> {
        Err(LedgerError::Unavailable("connection refused".to_owned()))
    }
}

#[tokio::test]
async fn a_ledger_error_is_retried() {
    let plugin = plugin_with(Arc::new(DownLedger), false).await;
    let paid = with_items("payment_intent.succeeded", Some(ITEMS));
    match deliver(&*plugin, paid, KEY).await {
        Outcome::Retry { reason, .. } => assert!(reason.contains("connection refused"), "{reason}"),
        other => panic!("expected Retry, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refund_that_would_overflow_a_level_fails_for_good_and_moves_nothing() {
    let ledger = Arc::new(MemoryLedger::with_levels([
        ("SKU-TEE-M", i64::MAX - 1),
        ("SKU-MUG", 5),
    ]));
    let plugin = plugin_with(ledger.clone(), false).await;
    // Without an order, the refund's own lines go back as they are.
    let mut refunded = with_items("charge.refunded", Some(ITEMS));
    let metadata = refunded["data"]["object"]["metadata"]
        .as_object_mut()
        .expect("metadata");
    metadata.remove("order_id");
    let reason = failed_reason(&deliver(&*plugin, refunded, KEY).await);
    assert!(reason.contains("overflow"), "{reason}");
    assert!(reason.contains("SKU-TEE-M"), "{reason}");
    assert_eq!(levels(&ledger).await, level_list(5, i64::MAX - 1));
}

#[test]
fn a_config_table_validates() {
    let config: InventoryConfig =
        serde_json::from_value(json!({ "restock_partial_refunds": true })).unwrap();
    let env = HashMap::new();
    let cx = ValidateContext::new("plugins.inventory.shop", &env);
    let validated = config.validate(&cx).unwrap();
    assert!(validated.restock_partial_refunds);
    assert_eq!(validated.max_concurrency, 8);
    assert!(serde_json::from_value::<InventoryConfig>(json!({ "sku": "x" })).is_err());
}

#[test]
fn validate_action_checks_keys_values_and_template() {
    let templates = FakeTemplates;
    assert_eq!(validate_action(&Map::new(), &templates), Ok(()));
    let ok = params(json!({ "adjust": "increment", "items": "{{data.object.metadata.x}}" }));
    assert_eq!(validate_action(&ok, &templates), Ok(()));

    let errors =
        validate_action(&params(json!({ "adjust": "up", "to": "x" })), &templates).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");

    let errors =
        validate_action(&params(json!({ "items": "{{data.object" })), &templates).unwrap_err();
    assert!(errors[0].contains("items"), "{errors:?}");
}

/// Delivers `raw` under `key` and returns the outcome and the events it raised.
async fn deliver_raising(
    plugin: &dyn Plugin,
    raw: Value,
    key: &str,
) -> (Outcome, Vec<herald_plugin_api::RaisedEvent>) {
    let event = event_from(raw);
    let params = Map::new();
    let context = herald_plugin_api::Context::new(&event, &Value::Null, &params);
    let raised = herald_plugin_api::Raised::new();
    let job = herald_plugin_api::Job {
        event: &event,
        params: &params,
        context: &context,
        idempotency_key: key,
        attempt: 1,
        rule: "stock",
        raised: &raised,
    };
    let outcome = plugin.deliver(&job).await;
    (outcome, raised.take())
}

#[tokio::test]
async fn a_level_taken_to_low_stock_at_raises_one_event_however_often_delivered() {
    let ledger = Arc::new(MemoryLedger::with_levels([
        ("SKU-TEE-M", 10),
        ("SKU-MUG", 1),
    ]));
    let config = ValidatedInventory {
        restock_partial_refunds: false,
        low_stock_at: Some(8),
        max_concurrency: 8,
        line_items_from_stripe: false,
    };
    let plugin = plugin_configured(ledger, config).await;
    let paid = with_items("payment_intent.succeeded", Some("SKU-TEE-M:2, SKU-MUG:2"));
    let (outcome, first) = deliver_raising(&*plugin, paid.clone(), KEY).await;
    assert_eq!(outcome, Outcome::Delivered);
    let mut seen: Vec<(String, Value, Value)> = first
        .iter()
        .map(|e| {
            (
                e.kind.clone(),
                e.object["sku"].clone(),
                e.object["reason"].clone(),
            )
        })
        .collect();
    seen.sort_by_key(|(_, sku, _)| sku.to_string());
    assert_eq!(
        seen,
        [
            (
                "herald.stock_low".into(),
                json!("SKU-MUG"),
                json!("below_zero")
            ),
            (
                "herald.stock_low".into(),
                json!("SKU-TEE-M"),
                json!("low_stock_at")
            ),
        ]
    );
    assert_eq!(first[0].object["order_id"], "ORDER12345");
    // The same job again (its first delivery's record lost): the same events, by id.
    let (outcome, again) = deliver_raising(&*plugin, paid, KEY).await;
    assert_eq!(outcome, Outcome::Delivered);
    let ids = |events: &[herald_plugin_api::RaisedEvent]| {
        let mut ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&again), ids(&first));
}
