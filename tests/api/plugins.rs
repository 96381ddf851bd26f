//! The plugin kinds beyond email and webhook, wired end to end through herald.

use serde_json::Value;

use crate::helpers::{base_config, repo, spawn_app_with, test_env};
use crate::http_sink::HttpSink;

const PAID: &str = "evt_1R4QrlHrLd9TstBbciwU1NSl";

#[tokio::test]
async fn exec_runs_the_shipped_example_once_per_job_even_when_redelivered() {
    let log = tempfile::TempDir::new().expect("temp dir");
    let log_file = log.path().join("orders.log");
    let config = format!(
        r#"{base}
[plugins.exec.order_log]
command = "{command}"
env = {{ ORDER_LOG = "{log}" }}

[[rules]]
name = "log-paid"
on = ["payment_intent.succeeded"]
actions = [{{ plugin = "order_log", args = ["{{{{order_id}}}}"] }}]
"#,
        base = base_config(),
        command = repo().join("plugins/exec/examples/log-order.sh").display(),
        log = log_file.display()
    );
    let app = spawn_app_with(&config).await;
    assert_eq!(
        app.post_fixture("payment_intent.succeeded").await.status(),
        200
    );
    assert_eq!(app.settle(PAID).await[0].status, "delivered");
    herald::replay::redeliver_event(&app.store, &herald::rules::Rules::default(), "stripe", PAID)
        .await
        .expect("redeliver")
        .expect("stored");
    assert_eq!(app.settle(PAID).await[0].status, "delivered");

    let lines = std::fs::read_to_string(&log_file).expect("the script wrote its log");
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("order=ORDER12345"), "{}", lines[0]);
    assert!(lines[0].contains("key=stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:log-paid:0"));
}

#[tokio::test]
async fn sms_through_a_json_gateway_reaches_the_customers_phone() {
    let sink = HttpSink::start().await;
    let config = format!(
        r#"{base}
[plugins.sms.texts]
provider = "json"
url = "{url}/send"
from = "ExampleShop"

[[rules]]
name = "text-paid"
on = ["payment_intent.succeeded"]
actions = [{{ plugin = "texts", template = "payment_succeeded" }}]
"#,
        base = base_config(),
        url = sink.url()
    );
    let app = spawn_app_with(&config).await;
    assert_eq!(
        app.post_fixture("payment_intent.succeeded").await.status(),
        200
    );
    assert_eq!(app.settle(PAID).await[0].status, "delivered");
    let sent = sink.delivered();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/send");
    let body: Value = serde_json::from_slice(&sent[0].body).expect("json");
    assert_eq!(body["to"], "+14155550123");
    assert!(
        body["body"].as_str().unwrap_or("").contains("$49.98"),
        "{body}"
    );
}

#[tokio::test]
async fn push_through_ntfy_reaches_the_topic() {
    let sink = HttpSink::start().await;
    let config = format!(
        r#"{base}
[plugins.push.ops]
provider = "ntfy"
url = "{url}"
topic = "shop-orders"

[[rules]]
name = "push-paid"
on = ["payment_intent.succeeded"]
actions = [{{ plugin = "ops", title = "Paid: {{{{order_id}}}}", body = "{{{{money amount currency}}}} from {{{{customer.name}}}}" }}]
"#,
        base = base_config(),
        url = sink.url()
    );
    let app = spawn_app_with(&config).await;
    assert_eq!(
        app.post_fixture("payment_intent.succeeded").await.status(),
        200
    );
    assert_eq!(app.settle(PAID).await[0].status, "delivered");
    let sent = sink.delivered();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/shop-orders");
    assert_eq!(sent[0].header("title"), Some("Paid: ORDER12345"));
    assert_eq!(
        String::from_utf8_lossy(&sent[0].body),
        "$49.98 from Jenny Rosen"
    );
}

#[test]
fn an_fcm_action_without_a_target_is_refused_at_start_up() {
    let mut env = test_env();
    env.insert("FCM_ACCESS_TOKEN".to_owned(), "token".to_owned());
    let config = format!(
        r#"{base}
[plugins.push.phones]
provider = "fcm"
project_id = "example-shop"
access_token = "${{FCM_ACCESS_TOKEN}}"

[[rules]]
name = "push-paid"
on = ["payment_intent.succeeded"]
actions = [{{ plugin = "phones", body = "Paid" }}]
"#,
        base = base_config()
    );
    let err =
        match herald::Config::from_toml(&config, std::path::Path::new("/tmp/config.toml"), &env) {
            Ok(_) => panic!("accepted an FCM action with neither topic nor token"),
            Err(err) => err.to_string(),
        };
    assert!(err.contains("rules[0] (push-paid).actions[0]"), "{err}");
    assert!(err.contains("topic") && err.contains("token"), "{err}");
}
