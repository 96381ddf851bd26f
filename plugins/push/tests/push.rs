//! The push plugin end to end: config → build → deliver, against HTTP sinks on 127.0.0.1.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{
    BuildContext, Event, Instance, Outcome, Plugin, PluginConfig, ValidateContext,
};
use herald_plugin_push::{validate_action, PushConfig, ValidatedPush};
use herald_testkit::{
    assert_failed, assert_held, canned, params, Attempt, FakeTemplates, HttpSink,
};
use serde_json::{json, Map, Value};

const WAIT: Duration = Duration::from_secs(10);
const KEY: &str = "stripe:evt_1:push_paid:0";

fn event() -> Event {
    herald_testkit::event(
        "payment_intent.succeeded",
        json!({ "id": "pi_1", "device": "dev-tok-1" }),
    )
}

async fn deliver(plugin: &dyn Plugin, params: &Map<String, Value>) -> Outcome {
    let attempt = Attempt::first("push_paid", KEY);
    herald_testkit::deliver(plugin, &event(), params, attempt).await
}

fn env() -> HashMap<String, String> {
    HashMap::from([
        ("NTFY_TOKEN".to_owned(), "tk_ntfy".to_owned()),
        ("FCM_ACCESS_TOKEN".to_owned(), "ya29.fcm".to_owned()),
    ])
}

fn validated(config: Value) -> Result<ValidatedPush, Vec<String>> {
    let config: PushConfig = serde_json::from_value(config).expect("config deserializes");
    config
        .validate(&ValidateContext::new("plugins.push.test", &env()))
        .map_err(|issues| issues.iter().map(ToString::to_string).collect())
}

async fn plugin_from(config: Value) -> Arc<dyn Plugin> {
    let valid = validated(config).expect("config is valid");
    valid
        .build(&BuildContext::new(Arc::new(FakeTemplates)).for_instance("test"))
        .await
        .expect("plugin builds")
}

fn ntfy_config(url: &str) -> Value {
    json!({ "provider": "ntfy", "url": url, "topic": "shop-orders", "token": "${NTFY_TOKEN}" })
}

fn fcm_config(base: &str) -> Value {
    json!({
        "provider": "fcm",
        "project_id": "example-shop",
        "access_token": "${FCM_ACCESS_TOKEN}",
        "api_base": base,
        "timeout_secs": 5,
    })
}

#[tokio::test]
async fn ntfy_wire_format() {
    let sink = HttpSink::start().await;
    let plugin = plugin_from(ntfy_config(&sink.url())).await;
    let action = params(json!({
        "title": "Order {{order_id}} paid",
        "body": "{{customer.name}} paid {{amount}}",
        "click": "https://shop.example.com/orders/{{order_id}}",
    }));
    assert_eq!(deliver(plugin.as_ref(), &action).await, Outcome::Delivered);
    let request = &sink.wait_for(1, WAIT).await[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/shop-orders");
    assert_eq!(request.body, b"Ada paid 1999");
    assert_eq!(request.header("title"), Some("Order 42 paid"));
    assert_eq!(
        request.header("click"),
        Some("https://shop.example.com/orders/42")
    );
    assert_eq!(request.header("authorization"), Some("Bearer tk_ntfy"));
    assert_eq!(request.header("idempotency-key"), Some(KEY));
    assert_eq!(
        request.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[tokio::test]
async fn ntfy_action_topic_overrides_and_non_ascii_titles_are_encoded() {
    let sink = HttpSink::start().await;
    let plugin =
        plugin_from(json!({ "provider": "ntfy", "url": format!("{}/", sink.url()) })).await;
    let action = params(json!({ "topic": "vip", "title": "Payée ✓", "body": "ok" }));
    assert_eq!(deliver(plugin.as_ref(), &action).await, Outcome::Delivered);
    let request = &sink.wait_for(1, WAIT).await[0];
    assert_eq!(request.path, "/vip");
    assert_eq!(
        request.header("title"),
        Some("=?UTF-8?B?UGF5w6llIOKckw==?=")
    );
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.header("click"), None);
}

#[tokio::test]
async fn fcm_wire_format_is_http_v1() {
    let sink = HttpSink::start().await;
    let plugin = plugin_from(fcm_config(&sink.url())).await;
    let action = params(json!({
        "token": "{{data.object.device}}",
        "title": "Order {{order_id}}",
        "body": "Paid by {{customer.name}}",
        "click": "https://shop.example.com/orders/{{order_id}}",
    }));
    assert_eq!(deliver(plugin.as_ref(), &action).await, Outcome::Delivered);
    let request = &sink.wait_for(1, WAIT).await[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/projects/example-shop/messages:send");
    assert_eq!(request.header("authorization"), Some("Bearer ya29.fcm"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("idempotency-key"), Some(KEY));
    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(
        body,
        json!({ "message": {
            "token": "dev-tok-1",
            "notification": { "title": "Order 42", "body": "Paid by Ada" },
            "data": { "idempotency_key": KEY, "event_id": "evt_1", "order_id": "42" },
            "webpush": { "fcm_options": { "link": "https://shop.example.com/orders/42" } },
        } })
    );
}

#[tokio::test]
async fn fcm_topic_message() {
    let sink = HttpSink::start().await;
    let plugin = plugin_from(fcm_config(&sink.url())).await;
    let action = params(json!({ "topic": "orders", "body": "New order" }));
    assert_eq!(deliver(plugin.as_ref(), &action).await, Outcome::Delivered);
    let body: Value = serde_json::from_slice(&sink.wait_for(1, WAIT).await[0].body).expect("json");
    assert_eq!(body["message"]["topic"], "orders");
    assert_eq!(
        body["message"]["notification"],
        json!({ "body": "New order" })
    );
    assert!(body["message"].get("token").is_none());
    assert!(body["message"].get("webpush").is_none());
}

#[tokio::test]
async fn temporary_answers_retry_with_the_hint() {
    let sink = HttpSink::start().await;
    let plugin = plugin_from(fcm_config(&sink.url())).await;
    let action = params(json!({ "topic": "orders", "body": "x" }));
    sink.fail_next(1, 503);
    let outcome = deliver(plugin.as_ref(), &action).await;
    assert!(
        matches!(outcome, Outcome::Retry { after: None, .. }),
        "{outcome:?}"
    );
    sink.set_retry_after(Some("12".into()));
    sink.fail_next(1, 429);
    match deliver(plugin.as_ref(), &action).await {
        Outcome::Retry { after, .. } => assert_eq!(after, Some(Duration::from_secs(12))),
        other => panic!("expected Retry, got {other:?}"),
    }
}

#[tokio::test]
async fn fcm_errors_are_permanent_with_their_reason() {
    let action = params(json!({ "token": "{{data.object.device}}", "body": "x" }));
    let base = canned(
        404,
        r#"{"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND", "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}"#,
    )
    .await;
    let outcome = deliver(plugin_from(fcm_config(&base)).await.as_ref(), &action).await;
    assert_failed(
        &outcome,
        "UNREGISTERED (NOT_FOUND): Requested entity was not found.",
    );
    let base = canned(
        400,
        r#"{"error": {"code": 400, "message": "The registration token is not a valid FCM registration token", "status": "INVALID_ARGUMENT"}}"#,
    )
    .await;
    let outcome = deliver(plugin_from(fcm_config(&base)).await.as_ref(), &action).await;
    assert_failed(&outcome, "INVALID_ARGUMENT: The registration token");
    let base = canned(
        401,
        r#"{"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}"#,
    )
    .await;
    let outcome = deliver(plugin_from(fcm_config(&base)).await.as_ref(), &action).await;
    assert_failed(&outcome, "access token rejected");
}

#[tokio::test]
async fn bad_renders_fail_without_sending() {
    let sink = HttpSink::start().await;
    let plugin = plugin_from(fcm_config(&sink.url())).await;
    let http_click =
        params(json!({ "topic": "o", "body": "x", "click": "http://x.example/{{order_id}}" }));
    assert_failed(
        &deliver(plugin.as_ref(), &http_click).await,
        "must be an https URL",
    );
    // A template that does not render holds the job for a fix.
    let missing = params(json!({ "topic": "o", "body": "{{customer.phone}}" }));
    assert_held(
        &deliver(plugin.as_ref(), &missing).await,
        "`body` template error",
    );
    assert!(sink.received().is_empty());
}

#[test]
fn fcm_needs_exactly_one_of_topic_and_token() {
    let templates = FakeTemplates;
    let fcm = validated(fcm_config("https://fcm.googleapis.com")).expect("valid");
    let both = params(json!({ "topic": "orders", "token": "{{x}}", "body": "b" }));
    let errors = fcm.validate_action(&both, &templates).expect_err("both");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("either `topic` or `token`")),
        "{errors:?}"
    );
    assert!(validate_action(&both, &templates).is_err());
    let neither = params(json!({ "body": "b" }));
    let errors = fcm
        .validate_action(&neither, &templates)
        .expect_err("neither");
    assert!(
        errors[0].contains("needs a `topic` or a device `token`"),
        "{errors:?}"
    );
    let prefixed = params(json!({ "topic": "/topics/orders", "body": "b" }));
    assert!(fcm.validate_action(&prefixed, &templates).is_err());
    assert_eq!(
        fcm.validate_action(
            &params(json!({ "token": "{{t}}", "body": "b" })),
            &templates
        ),
        Ok(())
    );

    let ntfy = validated(json!({ "provider": "ntfy" })).expect("valid");
    let errors = ntfy
        .validate_action(&neither, &templates)
        .expect_err("no topic");
    assert!(errors[0].contains("`topic` is required"), "{errors:?}");
    let errors =
        validate_action(&params(json!({ "title": "t" })), &templates).expect_err("no body");
    assert!(errors[0].contains("`body` is required"), "{errors:?}");
}

#[test]
fn validation_names_every_problem() {
    let text = validated(json!({
        "provider": "fcm",
        "project_id": "bad/id",
        "access_token": "ya29.inline",
        "api_base": "not a url",
        "topic": "x",
    }))
    .expect_err("invalid")
    .join("\n");
    for needle in [
        "plugins.push.test.project_id: `bad/id` is not a Firebase project id",
        "plugins.push.test.access_token: must be a `${VAR}` reference",
        "plugins.push.test.api_base: `not a url` is not a valid URL",
        "plugins.push.test.topic: does not apply to provider = \"fcm\"",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("ya29.inline"), "{text}");

    let text = validated(json!({
        "provider": "ntfy", "url": "ftp://ntfy.example.com", "topic": "a b", "token": "${NOPE}",
    }))
    .expect_err("invalid")
    .join("\n");
    assert!(
        text.contains("url: `ftp://ntfy.example.com` uses the `ftp` scheme"),
        "{text}"
    );
    assert!(
        text.contains("topic: topic `a b` is not a valid topic name"),
        "{text}"
    );
    assert!(
        text.contains("token: environment variable `NOPE` is not set"),
        "{text}"
    );

    let valid = validated(json!({ "provider": "ntfy", "token": "${NTFY_TOKEN}" })).expect("valid");
    assert_eq!(valid.max_concurrency, 8);
    assert_eq!(valid.timeout, Duration::from_secs(10));
    assert!(!format!("{valid:?}").contains("tk_ntfy"));
    assert!(
        serde_json::from_value::<PushConfig>(json!({ "provider": "ntfy", "tpoic": "x" })).is_err()
    );
}

#[test]
fn the_removed_json_provider_names_the_webhook_plugin() {
    let err = serde_json::from_value::<PushConfig>(json!({
        "provider": "json",
        "url": "https://push.example.com/notify",
    }))
    .expect_err("json is refused");
    let text = err.to_string();
    assert!(text.contains("provider = \"json\" was removed"), "{text}");
    assert!(text.contains("[plugins.webhook.<name>]"), "{text}");
    assert!(text.contains("`body` template"), "{text}");
    // The JSON provider's `headers` went with it.
    let headers = json!({ "provider": "ntfy", "headers": { "X-A": "b" } });
    assert!(serde_json::from_value::<PushConfig>(headers).is_err());
}
