//! The plugin kinds beyond email and webhook, wired end to end through herald.

use serde_json::Value;

use crate::helpers::{
    base_config, repo, rule, spawn_app_with, test_env, webhook_instance, ON_PAID,
};
use herald_testkit::HttpSink;

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
    app.accept_fixture("payment_intent.succeeded").await;
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

/// What `[plugins.sms.*] provider = "json"` did, a webhook action with a `body`
/// template does: one JSON POST with the number and text (`json` keeps any text
/// valid JSON), and the job's key.
#[tokio::test]
async fn a_webhook_body_template_makes_the_json_sms_gateway_call() {
    let sink = HttpSink::start().await;
    let body = r#"'{"to": {{json customer.phone}}, "from": "ExampleShop", "body": {{json (money amount currency)}}}'"#;
    let config = [
        base_config(),
        webhook_instance("texts", &format!("{}/send", sink.url())),
        rule(
            "text-paid",
            ON_PAID,
            &format!(r#"plugin = "texts", body = {body}"#),
        ),
    ]
    .concat();
    let app = spawn_app_with(&config).await;
    app.accept_fixture("payment_intent.succeeded").await;
    let jobs = app.settle(PAID).await;
    assert_eq!(jobs[0].status, "delivered");
    let sent = sink.delivered();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/send");
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    assert!(
        sent[0]
            .header("idempotency-key")
            .is_some_and(|key| key.ends_with(":text-paid:0")),
        "{:?}",
        sent[0].header("idempotency-key")
    );
    let body: Value = serde_json::from_slice(&sent[0].body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({ "to": "+14155550123", "from": "ExampleShop", "body": "$49.98" })
    );
}

#[tokio::test]
async fn push_through_ntfy_reaches_the_topic() {
    let sink = HttpSink::start().await;
    let ntfy = format!(
        "[plugins.push.ops]\nprovider = \"ntfy\"\nurl = \"{}\"\ntopic = \"shop-orders\"\n",
        sink.url()
    );
    let action = r#"plugin = "ops", title = "Paid: {{order_id}}", body = "{{money amount currency}} from {{customer.name}}""#;
    let config = [base_config(), ntfy, rule("push-paid", ON_PAID, action)].concat();
    let app = spawn_app_with(&config).await;
    app.accept_fixture("payment_intent.succeeded").await;
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
    let fcm = r#"[plugins.push.phones]
provider = "fcm"
project_id = "example-shop"
access_token = "${FCM_ACCESS_TOKEN}"
"#;
    let config = [
        base_config(),
        fcm.to_owned(),
        rule("push-paid", ON_PAID, r#"plugin = "phones", body = "Paid""#),
    ]
    .concat();
    let err =
        match herald::Config::from_toml(&config, std::path::Path::new("/tmp/config.toml"), &env) {
            Ok(_) => panic!("accepted an FCM action with neither topic nor token"),
            Err(err) => err.to_string(),
        };
    assert!(err.contains("rules[0] (push-paid).actions[0]"), "{err}");
    assert!(err.contains("topic") && err.contains("token"), "{err}");
}

#[tokio::test]
async fn fcm_with_a_service_account_mints_a_token_and_delivers() {
    let google =
        herald_testkit::FakeGoogle::start(std::sync::Arc::new(std::time::SystemTime::now)).await;
    let keys = tempfile::TempDir::new().expect("temp dir");
    let key_file = google.write_key_file(keys.path());
    let fcm = format!(
        "[plugins.push.phones]\nprovider = \"fcm\"\ncredentials = \"{}\"\napi_base = \"{}\"\n",
        key_file.display(),
        google.url()
    );
    let action = r#"plugin = "phones", topic = "orders", body = "Paid: {{order_id}}""#;
    let config = [base_config(), fcm, rule("push-paid", ON_PAID, action)].concat();
    let app = spawn_app_with(&config).await;
    app.accept_fixture("payment_intent.succeeded").await;
    assert_eq!(app.settle(PAID).await[0].status, "delivered");
    assert_eq!(google.token_requests(), 1);
    let sent = google.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body["message"]["notification"]["body"],
        "Paid: ORDER12345"
    );
}

#[test]
fn a_missing_fcm_key_file_is_reported_with_its_path() {
    let config = format!(
        r#"{base}
[plugins.push.phones]
provider = "fcm"
credentials = "keys/missing.json"
"#,
        base = base_config()
    );
    let err = match herald::Config::from_toml(
        &config,
        std::path::Path::new("/tmp/herald-check/config.toml"),
        &test_env(),
    ) {
        Ok(_) => panic!("accepted a missing key file"),
        Err(err) => err.to_string(),
    };
    assert!(err.contains("plugins.push.phones.credentials"), "{err}");
    assert!(
        err.contains(
            "cannot read the service-account key file `/tmp/herald-check/keys/missing.json`"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn orders_end_in_the_right_status_whatever_the_arrival_order() {
    let config = format!(
        r#"{base}
[admin]
token = "${{HERALD_ADMIN_TOKEN}}"

[plugins.orders.orders]

[[rules]]
name = "order-status"
on = ["payment_intent.*", "charge.*", "checkout.session.*"]
when = "order_id exists"
actions = [{{ plugin = "orders" }}]
"#,
        base = base_config()
    );
    let app = spawn_app_with(&config).await;
    // The refund first, the payment's creation last: the fold replays them in time order.
    for name in [
        "charge.refunded",
        "payment_intent.succeeded",
        "charge.dispute.created",
        "payment_intent.payment_failed",
        "payment_intent.created",
    ] {
        app.accept_fixture(name).await;
        app.dispatch_all_pending().await;
    }
    let (ok, shown, err) =
        crate::helpers::cli(&app.config_path(), &["orders", "show", "ORDER12345"]).await;
    assert!(ok, "{err}");
    // The dispute, the newest fact, names only its charge: the links lead it here.
    assert!(shown.starts_with("order ORDER12345: disputed"), "{shown}");
    assert_eq!(
        shown.lines().count(),
        6,
        "five facts under the status line: {shown}"
    );

    let order: Value = app.admin_json("/api/orders/ORDER12345").await;
    assert_eq!(order["order"]["status"], "disputed");
    assert_eq!(order["facts"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn the_order_ledger_folds_concurrent_facts_on_every_backend() {
    use herald_plugin_orders::{fold, Fact, OrderLedger, OrderStatus, Signal};

    for (backend, store, _guard) in crate::helpers::backends().await {
        let facts = [
            ("evt_paid", 10, OrderStatus::Paid.into()),
            ("evt_partial", 20, OrderStatus::PartiallyRefunded.into()),
            ("evt_refunded", 30, OrderStatus::Refunded.into()),
            ("evt_stale_pending", 5, OrderStatus::Pending.into()),
            ("evt_warning", 15, Signal::Hold),
        ];
        let mut tasks = tokio::task::JoinSet::new();
        for (id, created, signal) in facts {
            let store = store.clone();
            tasks.spawn(async move {
                let fact = Fact {
                    event_id: id.to_owned(),
                    event_type: "test".to_owned(),
                    created,
                    signal,
                    amount: None,
                };
                // Twice: the same event is one fact.
                store.apply("O1", &fact, &fold).await.expect("apply");
                store.apply("O1", &fact, &fold).await.expect("apply again");
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("task");
        }
        let (state, facts) = store.get("O1").await.expect("get").expect("order");
        assert_eq!(state.status, OrderStatus::Refunded, "{backend}");
        assert_eq!(state.decided_by, "evt_refunded", "{backend}");
        assert!(state.on_hold, "the warning's hold is kept: {backend}");
        assert_eq!((state.facts, facts.len()), (5, 5), "{backend}");
        assert!(store.get("O2").await.expect("get").is_none());
    }
}

/// A fixture with `metadata.items` set on its object, under a new event id.
fn with_items(name: &str, id: &str, items: &str) -> Vec<u8> {
    let mut event = herald_testkit::stripe::fixture_with_items(name, items);
    event["id"] = Value::from(id);
    serde_json::to_vec(&event).expect("json")
}

async fn levels(app: &crate::helpers::TestApp, sku: &str) -> String {
    let (ok, out, err) = crate::helpers::cli(&app.config_path(), &["inventory", sku]).await;
    assert!(ok, "{err}");
    out
}

#[tokio::test]
async fn inventory_is_taken_on_payment_and_restocked_on_refund_once_per_job() {
    let on = r#"["payment_intent.succeeded", "charge.refunded"]"#;
    let config = format!(
        "{}[plugins.inventory.stock]\n{}",
        base_config(),
        rule("stock", on, r#"plugin = "stock""#)
    );
    let app = spawn_app_with(&config).await;
    let (ok, _, err) = crate::helpers::cli(
        &app.config_path(),
        &["inventory", "SKU-TEE", "--adjust", "10"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(levels(&app, "SKU-TEE").await.contains("10"));

    let paid = with_items(
        "payment_intent.succeeded",
        "evt_stock_paid",
        "SKU-TEE:2, SKU-MUG",
    );
    for _ in 0..2 {
        assert_eq!(app.post_webhook(&paid).await.status(), 200);
        app.dispatch_all_pending().await;
    }
    herald::replay::redeliver_event(
        &app.store,
        &herald::rules::Rules::default(),
        "stripe",
        "evt_stock_paid",
    )
    .await
    .expect("redeliver")
    .expect("stored");
    app.dispatch_all_pending().await;
    let tee = levels(&app, "SKU-TEE").await;
    assert!(
        tee.split_whitespace().any(|w| w == "8"),
        "taken once: {tee}"
    );
    let mug = levels(&app, "SKU-MUG").await;
    assert!(mug.split_whitespace().any(|w| w == "-1"), "{mug}");

    let refunded = with_items("charge.refunded", "evt_stock_refund", "SKU-TEE:2, SKU-MUG");
    assert_eq!(app.post_webhook(&refunded).await.status(), 200);
    app.dispatch_all_pending().await;
    let tee = levels(&app, "SKU-TEE").await;
    assert!(
        tee.split_whitespace().any(|w| w == "10"),
        "restocked: {tee}"
    );
}

#[tokio::test]
async fn the_stock_ledger_applies_a_key_once_on_every_backend() {
    use herald_plugin_inventory::ledger::{StockLedger, StockMove};

    for (backend, store, _guard) in crate::helpers::backends().await {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.spawn(async move {
                let moves = [StockMove::new("SKU-A", -3)];
                store.apply("job-1", "evt_1", &moves).await.expect("apply")
            });
        }
        let mut applied = 0;
        while let Some(done) = tasks.join_next().await {
            applied += usize::from(done.expect("task"));
        }
        assert_eq!(applied, 1, "{backend}");
        assert_eq!(
            store.levels(Some("SKU-A")).await.expect("levels"),
            [("SKU-A".to_owned(), -3)],
            "{backend}"
        );
    }
}
