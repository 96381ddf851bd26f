//! The webhook plugin end to end: config → build → deliver, against the in-process HTTP
//! sink on 127.0.0.1.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use herald_plugin_api::{
    BuildContext, Event, Instance, Outcome, Plugin, PluginConfig, Templates, ValidateContext,
};
use herald_plugin_webhook::{decode_secret, verify, WebhookConfig, USER_AGENT};
use herald_testkit::{
    assert_failed, assert_held, assert_retry, closed_port, params, Attempt, FakeTemplates,
    HttpSink, Recorded,
};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

const WAIT: Duration = Duration::from_secs(10);
const KEY: &str = "stripe:evt_1:ship_paid:0";
const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn event(order_id: &str) -> Event {
    let object = json!({
        "id": "cs_1",
        "metadata": { "order_id": order_id },
        "collected_information": { "shipping_details": {
            "name": "Ada Lovelace",
            "address": { "line1": "12 St James's Square", "city": "London" },
        } },
    });
    Event {
        order_id: Some(order_id.into()),
        ..herald_testkit::event("checkout.session.completed", object)
    }
}

/// Delivers one job for an event whose order id is `order_id`.
async fn deliver_with(
    plugin: &dyn Plugin,
    params: &Map<String, Value>,
    order_id: &str,
    key: &str,
) -> Outcome {
    let attempt = Attempt::first("ship_paid", key);
    herald_testkit::deliver(plugin, &event(order_id), params, attempt).await
}

async fn deliver(plugin: &dyn Plugin) -> Outcome {
    deliver_with(
        plugin,
        &params(json!({ "path": "/orders/{{order_id}}" })),
        "42",
        KEY,
    )
    .await
}

async fn plugin_from(config: Value) -> Arc<dyn Plugin> {
    let env = HashMap::from([
        ("SHIP_SECRET".to_owned(), SECRET.to_owned()),
        ("SHIP_TOKEN".to_owned(), "t0ken".to_owned()),
    ]);
    let config: WebhookConfig = serde_json::from_value(config).expect("config deserializes");
    let cx = ValidateContext::new("plugins.webhook.shipping", &env);
    let valid = config.validate(&cx).expect("config is valid");
    let templates: Arc<dyn Templates> = Arc::new(FakeTemplates);
    valid
        .build(&BuildContext::new(templates).for_instance("shipping"))
        .await
        .expect("plugin builds")
}

async fn plugin_for(sink: &HttpSink, extra: Value) -> Arc<dyn Plugin> {
    let mut config = json!({ "url": format!("{}/hooks", sink.url()), "timeout_secs": 5 });
    if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
        config.extend(extra);
    }
    plugin_from(config).await
}

/// The Standard Webhooks signature, computed here without the crate's own code.
fn expected_signature(request: &Recorded) -> String {
    let key = STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .expect("secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    let id = request.header("webhook-id").expect("webhook-id");
    let timestamp = request
        .header("webhook-timestamp")
        .expect("webhook-timestamp");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn posts_the_exact_wire_format_and_signs_it() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(
        &sink,
        json!({
            "secret": "${SHIP_SECRET}",
            "headers": { "Authorization": "Bearer ${SHIP_TOKEN}" },
        }),
    )
    .await;
    let action = params(json!({ "path": "/orders/{{order_id}}/ship", "event_type": "order.paid" }));
    let outcome = deliver_with(plugin.as_ref(), &action, "a/b?c", KEY).await;
    assert_eq!(outcome, Outcome::Delivered);

    let delivered = sink.wait_for(1, WAIT).await;
    assert_eq!(delivered.len(), 1);
    let request = &delivered[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/orders/a%2Fb%3Fc/ship");
    assert_eq!(request.query, None);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("idempotency-key"), Some(KEY));
    assert_eq!(request.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(request.header("user-agent"), Some(USER_AGENT));
    assert_eq!(USER_AGENT, concat!("herald/", env!("CARGO_PKG_VERSION")));

    assert_eq!(request.header("webhook-id"), Some(KEY));
    let timestamp: i64 = request
        .header("webhook-timestamp")
        .expect("timestamp")
        .parse()
        .expect("integer timestamp");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert!(
        now.abs_diff(timestamp.unsigned_abs()) < 60,
        "{timestamp} vs {now}"
    );
    let signature = request.header("webhook-signature").expect("signature");
    assert_eq!(signature, expected_signature(request));
    let key = decode_secret(SECRET).expect("secret");
    assert_eq!(
        verify(&key, KEY, timestamp, &request.body, signature),
        Ok(())
    );

    let body: Value = serde_json::from_slice(&request.body).expect("body is JSON");
    assert_eq!(body["type"], "checkout.session.completed");
    assert_eq!(body["id"], "evt_1");
    assert_eq!(body["created"], 1_700_000_000);
    assert_eq!(body["order_id"], "a/b?c");
    assert_eq!(body["customer"]["email"], "ada@example.com");
    assert_eq!(body["amount"], 1999);
    assert_eq!(body["currency"], "usd");
    assert_eq!(body["shipping"]["address"]["city"], "London");
    assert_eq!(body["line_items"], Value::Null);
    assert_eq!(body["data"]["id"], "cs_1");
    assert_eq!(body["event_type"], "order.paid");
}

#[tokio::test]
async fn unsigned_instances_send_no_signature_headers() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(&sink, json!({})).await;
    let action = params(json!({ "body": "{\"order\": \"{{order_id}}\", \"paid\": true}" }));
    assert_eq!(
        deliver_with(plugin.as_ref(), &action, "42", KEY).await,
        Outcome::Delivered
    );
    let request = &sink.wait_for(1, WAIT).await[0];
    assert_eq!(request.path, "/hooks");
    assert_eq!(request.body, b"{\"order\": \"42\", \"paid\": true}");
    assert_eq!(request.header("idempotency-key"), Some(KEY));
    for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        assert_eq!(request.header(header), None, "{header}");
    }
}

/// What `[plugins.push.*] provider = "json"` did, a `body` template does: the
/// rendered parts and the event's ids in one JSON POST, with the configured
/// `Authorization` and the job's key.
#[tokio::test]
async fn a_body_template_makes_the_generic_json_push_call() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(
        &sink,
        json!({ "headers": { "Authorization": "Bearer ${SHIP_TOKEN}" } }),
    )
    .await;
    let body = r#"{"title": "Order {{order_id}} paid", "body": "{{customer.name}}", "topic": "ops", "event_id": "{{id}}", "order_id": "{{order_id}}"}"#;
    let action = params(json!({ "body": body }));
    assert_eq!(
        deliver_with(plugin.as_ref(), &action, "42", KEY).await,
        Outcome::Delivered
    );
    let request = &sink.wait_for(1, WAIT).await[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/hooks")
    );
    assert_eq!(request.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(request.header("idempotency-key"), Some(KEY));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let sent: Value = serde_json::from_slice(&request.body).expect("json body");
    assert_eq!(
        sent,
        json!({
            "title": "Order 42 paid", "body": "Ada", "topic": "ops",
            "event_id": "evt_1", "order_id": "42",
        })
    );
}

#[tokio::test]
async fn a_5xx_is_retried_and_the_retry_carries_the_same_key() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(&sink, json!({ "secret": "${SHIP_SECRET}" })).await;
    sink.fail_next(1, 503);
    let first = deliver(plugin.as_ref()).await;
    assert_eq!(assert_retry(&first, "503 Service Unavailable"), None);
    assert_eq!(sink.received().len(), 1);
    assert!(sink.delivered().is_empty());

    assert_eq!(deliver(plugin.as_ref()).await, Outcome::Delivered);
    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(sink.unique_idempotency_keys(), 1);
}

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_hint() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(&sink, json!({})).await;
    sink.set_status(429);
    sink.set_retry_after(Some("7".into()));
    let outcome = deliver(plugin.as_ref()).await;
    assert_eq!(assert_retry(&outcome, "429"), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn a_404_fails_with_the_status_and_the_answer() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(&sink, json!({})).await;
    sink.set_status(404);
    let outcome = deliver(plugin.as_ref()).await;
    assert_failed(&outcome, "404 Not Found: sink answered 404");
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_fails() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(&sink, json!({})).await;
    sink.set_status(301);
    let outcome = deliver(plugin.as_ref()).await;
    assert_failed(&outcome, "301 Moved Permanently");
    assert_failed(&outcome, "redirects are not followed");
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let port = closed_port();
    let plugin = plugin_from(json!({ "url": format!("http://127.0.0.1:{port}/hooks") })).await;
    let outcome = deliver(plugin.as_ref()).await;
    assert_retry(
        &outcome,
        &format!("could not connect to http://127.0.0.1:{port}"),
    );
}

#[tokio::test]
async fn a_destination_that_hangs_is_retried_after_the_timeout() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(&sink, json!({ "timeout_secs": 1 })).await;
    sink.set_delay(Duration::from_secs(5));
    let outcome = deliver(plugin.as_ref()).await;
    assert_retry(&outcome, "within 1s");
    assert_eq!(sink.received().len(), 1);
    assert!(sink.delivered().is_empty());
}

#[tokio::test]
async fn template_and_parameter_errors_fail_without_sending() {
    let sink = HttpSink::start().await;
    let plugin = plugin_for(&sink, json!({})).await;

    let not_json = params(json!({ "body": "{\"order\": {{order_id}}}" }));
    let outcome = deliver_with(plugin.as_ref(), &not_json, "A-42", KEY).await;
    assert_failed(&outcome, "`body` did not render to valid JSON");

    // A template that does not render holds the job for a fix instead.
    let missing = params(json!({ "path": "/orders/{{no.such.field}}" }));
    let outcome = deliver_with(plugin.as_ref(), &missing, "42", KEY).await;
    assert_held(&outcome, "missing field `no.such.field`");

    let dots = params(json!({ "path": "/orders/{{order_id}}" }));
    let outcome = deliver_with(plugin.as_ref(), &dots, "..", KEY).await;
    assert_failed(&outcome, "would change the path");

    let typo = params(json!({ "pth": "/x" }));
    let outcome = deliver_with(plugin.as_ref(), &typo, "42", KEY).await;
    assert_failed(&outcome, "unknown key `pth`");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn hundreds_of_parallel_jobs_arrive() {
    // herald's dispatcher enforces `max_concurrency` (tests/api/delivery.rs); the
    // plugin itself takes whatever it is given.
    let sink = HttpSink::start().await;
    let plugin = plugin_for(&sink, json!({})).await;
    sink.set_delay(Duration::from_millis(5));
    let action = params(json!({ "path": "/orders/{{order_id}}" }));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..200 {
        let plugin = Arc::clone(&plugin);
        let action = action.clone();
        tasks.spawn(async move {
            let key = format!("stripe:evt_{n}:ship_paid:0");
            deliver_with(plugin.as_ref(), &action, &n.to_string(), &key).await
        });
    }
    while let Some(outcome) = tasks.join_next().await {
        assert_eq!(outcome.expect("task"), Outcome::Delivered);
    }
    assert_eq!(sink.wait_for(200, WAIT).await.len(), 200);
    assert_eq!(sink.unique_idempotency_keys(), 200);
}
