//! The storefront callback: a signed POST of the order's status after each fact.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{
    BuildContext, Event, Instance, Outcome, Plugin, PluginConfig, ValidateContext,
};
use herald_plugin_http::signature::{decode_secret, verify};
use herald_plugin_orders::{MemoryLedger, OrderLedger, OrdersConfig};
use herald_testkit::stripe::{event_from, event_json};
use herald_testkit::{Attempt, HttpSink};
use serde_json::{json, Map, Value};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn event(id: &str, kind: &str) -> Event {
    let object = json!({
        "id": "pi_1",
        "object": "payment_intent",
        "metadata": { "order_id": "ORDER1" },
        "amount": 4998,
        "currency": "usd",
    });
    event_from(event_json(id, kind, 1_700_000_000, object))
}

async fn deliver(plugin: &dyn Plugin, event: &Event, key: &str) -> Outcome {
    herald_testkit::deliver(plugin, event, &Map::new(), Attempt::first("orders", key)).await
}

async fn plugin(sink: &HttpSink, ledger: Arc<MemoryLedger>) -> Arc<dyn Plugin> {
    let config: OrdersConfig = serde_json::from_value(json!({
        "callback": { "url": format!("{}/hooks/orders", sink.url()), "secret": "${ORDERS_SECRET}" }
    }))
    .expect("config");
    let env = HashMap::from([("ORDERS_SECRET".to_owned(), SECRET.to_owned())]);
    let cx = ValidateContext::new("plugins.orders.shop", &env);
    let validated = config.validate(&cx).expect("valid");
    let cx = BuildContext::default()
        .with_order_ledger(ledger)
        .for_instance("shop");
    validated.build(&cx).await.expect("plugin builds")
}

#[tokio::test]
async fn the_storefront_gets_a_signed_status_after_each_fact() {
    let sink = HttpSink::start().await;
    let plugin = plugin(&sink, Arc::new(MemoryLedger::new())).await;
    let paid = event("evt_paid", "payment_intent.succeeded");
    let key = "stripe:evt_paid:orders:0";
    assert_eq!(
        deliver(plugin.as_ref(), &paid, key).await,
        Outcome::Delivered
    );

    let request = &sink.wait_for(1, Duration::from_secs(10)).await[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/hooks/orders")
    );
    assert_eq!(request.header("idempotency-key"), Some(key));
    assert_eq!(request.header("webhook-id"), Some(key));
    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(body["order_id"], "ORDER1");
    assert_eq!(body["status"], "paid");
    assert_eq!(body["on_hold"], false, "the hold travels with the status");
    assert_eq!(body["event_id"], "evt_paid");
    let timestamp: i64 = request
        .header("webhook-timestamp")
        .expect("timestamp")
        .parse()
        .expect("number");
    let signature = request.header("webhook-signature").expect("signed");
    let secret = decode_secret(SECRET).expect("secret");
    verify(&secret, key, timestamp, &request.body, signature).expect("the signature verifies");
}

#[tokio::test]
async fn a_failed_callback_is_retried_without_applying_the_fact_twice() {
    let sink = HttpSink::start().await;
    let ledger = Arc::new(MemoryLedger::new());
    let plugin = plugin(&sink, ledger.clone()).await;
    sink.fail_next(1, 503);
    let paid = event("evt_paid", "payment_intent.succeeded");
    let key = "stripe:evt_paid:orders:0";
    assert!(matches!(
        deliver(plugin.as_ref(), &paid, key).await,
        Outcome::Retry { .. }
    ));
    assert_eq!(
        deliver(plugin.as_ref(), &paid, key).await,
        Outcome::Delivered
    );
    let (state, facts) = ledger.get("ORDER1").await.expect("get").expect("order");
    assert_eq!(facts.len(), 1);
    assert_eq!(state.status.as_str(), "paid");
    assert_eq!(sink.delivered().len(), 1);
}

#[test]
fn a_callback_needs_a_valid_url_and_its_secret() {
    let config: OrdersConfig = serde_json::from_value(json!({
        "callback": { "url": "ftp://shop.example.com", "secret": "${MISSING}" }
    }))
    .expect("config");
    let env = HashMap::new();
    let issues = config
        .validate(&ValidateContext::new("plugins.orders.shop", &env))
        .unwrap_err();
    let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "plugins.orders.shop.callback.url",
            "plugins.orders.shop.callback.secret"
        ]
    );
    assert!(issues[1].message.contains("MISSING"));
}
