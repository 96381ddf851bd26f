//! The orders plugin end to end: real Stripe fixtures delivered through the plugin into
//! a [`MemoryLedger`], in every arrival order.

use std::sync::Arc;

use herald_plugin_api::{BuildContext, Event, Instance, Outcome, Plugin};
use herald_plugin_orders::{MemoryLedger, OrderLedger, OrderState, OrderStatus, ValidatedOrders};
use herald_testkit::stripe::{event_from, event_json, fixture_json};
use herald_testkit::Attempt;
use serde_json::{json, Map, Value};

const ORDER: &str = "ORDER12345";

/// The paid-then-refunded story, as fixture file stems.
const STORY: [&str; 6] = [
    "payment_intent.created",
    "payment_intent.payment_failed",
    "charge.succeeded",
    "payment_intent.succeeded",
    "checkout.session.completed",
    "charge.refunded",
];

fn fixture_event(name: &str) -> Event {
    event_from(fixture_json(name))
}

/// A synthetic event for `ORDER`.
fn event(id: &str, kind: &str, created: i64, object: Value) -> Event {
    event_from(event_json(id, kind, created, object))
}

async fn setup() -> (Arc<MemoryLedger>, Arc<dyn Plugin>) {
    let ledger = Arc::new(MemoryLedger::new());
    let config = ValidatedOrders {
        max_concurrency: 8,
        callback: None,
    };
    let cx = BuildContext::default()
        .with_order_ledger(ledger.clone())
        .for_instance("shop");
    let plugin = config.build(&cx).await.expect("plugin builds");
    (ledger, plugin)
}

async fn deliver_with(plugin: &dyn Plugin, event: &Event, params: &Map<String, Value>) -> Outcome {
    let attempt = Attempt::first("orders", "stripe:test:rule:0");
    herald_testkit::deliver(plugin, event, params, attempt).await
}

async fn deliver(plugin: &dyn Plugin, event: &Event) -> Outcome {
    deliver_with(plugin, event, &Map::new()).await
}

async fn state(ledger: &MemoryLedger) -> Option<OrderState> {
    ledger
        .get(ORDER)
        .await
        .expect("state")
        .map(|(state, _)| state)
}

/// Every permutation of `0..n`, by Heap's algorithm.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn heap(k: usize, items: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(items.clone());
            return;
        }
        for i in 0..k - 1 {
            heap(k - 1, items, out);
            let j = if k % 2 == 0 { i } else { 0 };
            items.swap(j, k - 1);
        }
        heap(k - 1, items, out);
    }
    let mut out = Vec::new();
    heap(n, &mut (0..n).collect(), &mut out);
    out
}

#[test]
fn permutations_are_all_distinct() {
    let mut all = permutations(4);
    assert_eq!(all.len(), 24);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 24);
}

#[test]
fn the_fixture_story_is_ordered_as_expected() {
    let events: Vec<Event> = STORY.iter().map(|name| fixture_event(name)).collect();
    assert!(events.iter().all(|e| e.order_id.as_deref() == Some(ORDER)));
    let created = |kind: &str| events.iter().find(|e| e.kind == kind).unwrap().created;
    // The declined attempt (a second PI) came first; the refund came last.
    assert!(created("payment_intent.payment_failed") < created("payment_intent.created"));
    assert!(created("payment_intent.created") < created("charge.succeeded"));
    // charge.succeeded and payment_intent.succeeded share a second: the rank ties them.
    assert_eq!(
        created("charge.succeeded"),
        created("payment_intent.succeeded")
    );
    assert!(created("checkout.session.completed") < created("charge.refunded"));
    assert!(events
        .iter()
        .all(|e| e.created < created("charge.refunded") || e.kind == "charge.refunded"));
}

#[tokio::test]
async fn every_arrival_order_ends_refunded_and_replays_change_nothing() {
    let events: Vec<Event> = STORY.iter().map(|name| fixture_event(name)).collect();
    let refund = fixture_event("charge.refunded");
    let orders = permutations(events.len());
    assert_eq!(orders.len(), 720);
    for order in orders {
        let (ledger, plugin) = setup().await;
        for &index in &order {
            let event = &events[index];
            assert_eq!(deliver(&*plugin, event).await, Outcome::Delivered);
            let before = ledger.get(ORDER).await.unwrap();
            // A redelivery of the same event is recorded once and folds the same.
            assert_eq!(deliver(&*plugin, event).await, Outcome::Delivered);
            assert_eq!(
                ledger.get(ORDER).await.unwrap(),
                before,
                "replay of {}",
                event.kind
            );
        }
        let (state, facts) = ledger.get(ORDER).await.unwrap().unwrap();
        assert_eq!(
            state.status,
            OrderStatus::Refunded,
            "arrival order {order:?}"
        );
        assert_eq!(state.decided_by, refund.id, "arrival order {order:?}");
        assert_eq!(state.decided_at, refund.created);
        assert_eq!((state.facts, facts.len()), (6, 6));
    }
}

fn refund_object(amount_refunded: i64) -> Value {
    json!({
        "metadata": { "order_id": ORDER },
        "amount": 4998,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= 4998,
    })
}

#[tokio::test]
async fn partial_then_full_refund_ends_refunded_in_both_orders() {
    let paid = fixture_event("charge.succeeded");
    let partial = event(
        "evt_partial",
        "charge.refunded",
        paid.created + 10,
        refund_object(1000),
    );
    let full = event(
        "evt_full",
        "charge.refunded",
        paid.created + 20,
        refund_object(4998),
    );
    for arrival in [
        [&paid, &partial, &full],
        [&paid, &full, &partial],
        [&full, &partial, &paid],
    ] {
        let (ledger, plugin) = setup().await;
        for event in arrival {
            assert_eq!(deliver(&*plugin, event).await, Outcome::Delivered);
        }
        let state = state(&ledger).await.unwrap();
        assert_eq!(state.status, OrderStatus::Refunded);
        assert_eq!(state.decided_by, "evt_full");
    }
}

#[tokio::test]
async fn a_partial_refund_alone_is_partially_refunded() {
    let (ledger, plugin) = setup().await;
    let paid = fixture_event("charge.succeeded");
    let partial = event(
        "evt_partial",
        "charge.refunded",
        paid.created + 10,
        refund_object(1000),
    );
    deliver(&*plugin, &paid).await;
    deliver(&*plugin, &partial).await;
    let (state, facts) = ledger.get(ORDER).await.unwrap().unwrap();
    assert_eq!(state.status, OrderStatus::PartiallyRefunded);
    assert_eq!(facts.last().unwrap().amount, Some(1000));
}

#[tokio::test]
async fn a_payment_failure_never_moves_paid_back() {
    let paid = fixture_event("payment_intent.succeeded");
    for offset in [-60, 60] {
        let (ledger, plugin) = setup().await;
        let failed = event(
            "evt_failed",
            "payment_intent.payment_failed",
            paid.created + offset,
            json!({ "metadata": { "order_id": ORDER } }),
        );
        deliver(&*plugin, &paid).await;
        deliver(&*plugin, &failed).await;
        let state = state(&ledger).await.unwrap();
        assert_eq!(state.status, OrderStatus::Paid, "failure at {offset:+}s");
        assert_eq!(state.decided_by, paid.id);
        assert_eq!(state.facts, 2);
    }
}

#[tokio::test]
async fn a_stale_pending_after_paid_is_ignored() {
    let (ledger, plugin) = setup().await;
    let paid = fixture_event("payment_intent.succeeded");
    let pending = event(
        "evt_pending_late",
        "payment_intent.created",
        paid.created + 5,
        json!({ "metadata": { "order_id": ORDER } }),
    );
    deliver(&*plugin, &paid).await;
    deliver(&*plugin, &pending).await;
    assert_eq!(state(&ledger).await.unwrap().status, OrderStatus::Paid);
}

#[tokio::test]
async fn a_dispute_without_an_order_id_fails() {
    let (_, plugin) = setup().await;
    let dispute = fixture_event("charge.dispute.created");
    assert_eq!(dispute.order_id, None);
    match deliver(&*plugin, &dispute).await {
        Outcome::Failed { reason } => {
            assert!(reason.contains("order_id exists"), "{reason}");
            assert!(reason.contains(&dispute.id), "{reason}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

/// `charge.updated` follows nearly every charge, and the shipped rule sends every
/// `charge.*` event of an order here: each became a dead letter.
#[tokio::test]
async fn events_that_say_nothing_about_the_order_are_skipped_not_dead_letters() {
    let (ledger, plugin) = setup().await;
    for kind in [
        "charge.updated",
        "charge.captured",
        "payment_intent.processing",
        "payment_intent.requires_action",
    ] {
        let quiet = event(
            "evt_quiet",
            kind,
            1_789_927_300,
            json!({ "metadata": { "order_id": ORDER } }),
        );
        match deliver(&*plugin, &quiet).await {
            Outcome::Skipped { reason } => assert!(reason.contains(kind), "{reason}"),
            other => panic!("{kind}: expected Skipped, got {other:?}"),
        }
    }
    assert_eq!(state(&ledger).await, None, "nothing was recorded");
}

#[tokio::test]
async fn a_refund_without_its_amount_cannot_be_read_and_fails() {
    let (ledger, plugin) = setup().await;
    let refund = event(
        "evt_odd_refund",
        "charge.refunded",
        1_789_927_300,
        json!({ "metadata": { "order_id": ORDER }, "amount": 4998 }),
    );
    match deliver(&*plugin, &refund).await {
        Outcome::Failed { reason } => assert!(reason.contains("amount_refunded"), "{reason}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(state(&ledger).await, None);
}

#[tokio::test]
async fn an_unknown_event_changes_nothing_unless_the_rule_sets_a_status() {
    let (ledger, plugin) = setup().await;
    let custom = event(
        "evt_custom",
        "shop.order.settled",
        1_789_927_300,
        json!({ "metadata": { "order_id": ORDER } }),
    );
    match deliver(&*plugin, &custom).await {
        Outcome::Skipped { reason } => {
            assert!(reason.contains("shop.order.settled"), "{reason}");
            assert!(reason.contains("status = "), "{reason}");
        }
        other => panic!("expected Skipped, got {other:?}"),
    }
    assert_eq!(state(&ledger).await, None);

    let params = Map::from_iter([("status".to_owned(), json!("paid"))]);
    assert_eq!(
        deliver_with(&*plugin, &custom, &params).await,
        Outcome::Delivered
    );
    let state = state(&ledger).await.unwrap();
    assert_eq!(state.status, OrderStatus::Paid);
    assert_eq!(state.decided_by, "evt_custom");
}

#[tokio::test]
async fn invalid_params_fail_the_job() {
    let (_, plugin) = setup().await;
    let paid = fixture_event("charge.succeeded");
    let params = Map::from_iter([("status".to_owned(), json!("shipped"))]);
    assert!(matches!(
        deliver_with(&*plugin, &paid, &params).await,
        Outcome::Failed { .. }
    ));
}

#[tokio::test]
async fn an_expired_checkout_is_canceled_and_a_late_payment_still_counts() {
    let (ledger, plugin) = setup().await;
    let expired = fixture_event("checkout.session.expired");
    assert_eq!(expired.order_id.as_deref(), Some("ORDER12346"));
    deliver(&*plugin, &expired).await;
    let canceled = ledger.get("ORDER12346").await.unwrap().unwrap().0;
    assert_eq!(canceled.status, OrderStatus::Canceled);

    let late = event_from(json!({
        "id": "evt_late_paid",
        "type": "charge.succeeded",
        "created": expired.created + 60,
        "data": { "object": { "metadata": { "order_id": "ORDER12346" } } },
    }));
    deliver(&*plugin, &late).await;
    let paid = ledger.get("ORDER12346").await.unwrap().unwrap().0;
    assert_eq!(paid.status, OrderStatus::Paid);
}

/// A ledger whose database is down.
struct DownLedger;

#[herald_plugin_api::async_trait]
impl OrderLedger for DownLedger {
    async fn apply(
        &self,
        _: &str,
        _: &herald_plugin_orders::Fact,
        _: &herald_plugin_orders::Fold,
    ) -> Result<Option<OrderState>, herald_plugin_orders::LedgerError> {
        Err(herald_plugin_orders::LedgerError(
            "connection refused".to_owned(),
        ))
    }

    async fn get(
        &self,
        _: &str,
    ) -> Result<
        Option<(OrderState, Vec<herald_plugin_orders::Fact>)>,
        herald_plugin_orders::LedgerError,
    > {
        Err(herald_plugin_orders::LedgerError(
            "connection refused".to_owned(),
        ))
    }
}

#[tokio::test]
async fn a_ledger_failure_is_retried() {
    let config = ValidatedOrders {
        max_concurrency: 1,
        callback: None,
    };
    let cx = BuildContext::default()
        .with_order_ledger(Arc::new(DownLedger))
        .for_instance("shop");
    let plugin = config.build(&cx).await.expect("plugin builds");
    assert_eq!(plugin.name(), "shop");
    match deliver(&*plugin, &fixture_event("charge.succeeded")).await {
        Outcome::Retry { reason, .. } => assert!(reason.contains("connection refused"), "{reason}"),
        other => panic!("expected Retry, got {other:?}"),
    }
}
