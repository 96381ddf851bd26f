//! `herald events` and `herald event` against a real herald, on every backend:
//! each filter narrows the list, statuses follow the jobs, an event shows its
//! jobs and every attempt, and the JSON shapes are the documented ones.

use herald::store::JobStatus;
use herald_testkit::HttpSink;
use serde_json::Value;

use crate::helpers::{
    base_config, database_table, fixture_with_id, fresh_postgres, rule, spawn_app_with,
    webhook_instance, PgDatabase, TestApp,
};

/// Short retry delays so retries happen within the test.
const FAST: &str = "backoff_base_secs = 0.01\nbackoff_max_secs = 0.05";

/// herald whose payment_intent events go to `good` and refunds to `bad`; other
/// types match no rule. On SQLite, or on `postgres`.
async fn app_on(postgres: Option<&PgDatabase>, good: &HttpSink, bad: &HttpSink) -> TestApp {
    let config = [
        base_config().replace("enabled = false", &format!("enabled = false\n{FAST}")),
        database_table(postgres),
        webhook_instance("good", &good.url()),
        webhook_instance("bad", &bad.url()),
        rule(
            "notify",
            r#"["payment_intent.*"]"#,
            r#"plugin = "good", path = "/events""#,
        ),
        rule(
            "refund_hook",
            r#"["charge.refunded"]"#,
            r#"plugin = "bad", path = "/refunds""#,
        ),
    ]
    .concat();
    spawn_app_with(&config).await
}

/// Each backend's app: SQLite always, PostgreSQL when a test server is configured.
async fn apps(good: &HttpSink, bad: &HttpSink) -> Vec<(&'static str, TestApp, Option<PgDatabase>)> {
    let mut apps = vec![("sqlite", app_on(None, good, bad).await, None)];
    if let Some(database) = fresh_postgres().await {
        let app = app_on(Some(&database), good, bad).await;
        apps.push(("postgres", app, Some(database)));
    }
    apps
}

async fn cli(app: &TestApp, args: &[&str]) -> String {
    let (ok, out, err) = crate::helpers::cli(&app.config_path(), args).await;
    assert!(ok, "herald {args:?} failed: {err}");
    out
}

/// `herald events ARGS --json`, parsed.
async fn events_json(app: &TestApp, args: &[&str]) -> Vec<Value> {
    let mut args = args.to_vec();
    args.insert(0, "events");
    args.push("--json");
    let out: Value = serde_json::from_str(&cli(app, &args).await).expect("events --json is JSON");
    out["events"].as_array().expect("an events array").clone()
}

fn ids(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["id"].as_str().expect("an id"))
        .collect()
}

#[tokio::test]
async fn each_filter_narrows_the_list_and_statuses_follow_the_jobs() {
    let (good, bad) = (HttpSink::start().await, HttpSink::start().await);
    bad.set_status(404);
    for (backend, app, _db) in apps(&good, &bad).await {
        app.post_order_event("payment_intent.succeeded", "evt_paid", "A1")
            .await;
        assert_eq!(app.settle("evt_paid").await[0].status, JobStatus::Delivered);
        app.post_order_event("charge.refunded", "evt_refund", "A2")
            .await;
        assert_eq!(app.settle("evt_refund").await[0].status, JobStatus::Dead);
        app.post_order_event("customer.subscription.created", "evt_nojobs", "A3")
            .await;
        // Not dispatched: its job stays pending.
        app.post_order_event("payment_intent.payment_failed", "evt_waiting", "A1")
            .await;

        let all = events_json(&app, &[]).await;
        assert_eq!(
            ids(&all),
            ["evt_waiting", "evt_nojobs", "evt_refund", "evt_paid"],
            "{backend}: newest first"
        );
        let narrowed = |args: &'static [&'static str]| {
            let app = &app;
            async move { ids(&events_json(app, args).await).join(" ") }
        };
        assert_eq!(
            narrowed(&["--type", "payment_intent.*"]).await,
            "evt_waiting evt_paid",
            "{backend}"
        );
        assert_eq!(
            narrowed(&["--type", "charge.refunded"]).await,
            "evt_refund",
            "{backend}"
        );
        assert_eq!(
            narrowed(&["--type", "payment_intent"]).await,
            "",
            "{backend}: exact"
        );
        assert_eq!(
            narrowed(&["--order", "A1"]).await,
            "evt_waiting evt_paid",
            "{backend}"
        );
        assert_eq!(
            narrowed(&["--status", "dead"]).await,
            "evt_refund",
            "{backend}"
        );
        assert_eq!(
            narrowed(&["--status", "pending"]).await,
            "evt_waiting",
            "{backend}"
        );
        assert_eq!(
            narrowed(&["--status", "delivered"]).await,
            "evt_nojobs evt_paid",
            "{backend}"
        );
        assert_eq!(
            narrowed(&["--limit", "2"]).await,
            "evt_waiting evt_nojobs",
            "{backend}"
        );
        assert_eq!(
            narrowed(&["--order", "A1", "--status", "delivered"]).await,
            "evt_paid",
            "{backend}: filters combine"
        );

        // --since keeps what was received at or after the time, whatever the clock did.
        let refund_ms = all[2]["received_at_ms"].as_i64().expect("received_at_ms");
        let since = chrono::DateTime::from_timestamp_millis(refund_ms)
            .expect("a time")
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let expected: Vec<&str> = all
            .iter()
            .filter(|e| e["received_at_ms"].as_i64() >= Some(refund_ms))
            .map(|e| e["id"].as_str().expect("id"))
            .collect();
        assert_eq!(
            ids(&events_json(&app, &["--since", &since]).await),
            expected,
            "{backend}"
        );
        assert_eq!(
            narrowed(&["--since", "4102444800"]).await,
            "",
            "{backend}: 2100 is ahead"
        );

        // The JSON shape of one listed event.
        let refund = &all[2];
        let keys: Vec<&str> = refund
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "amount",
                "created",
                "currency",
                "customer",
                "id",
                "jobs",
                "order_id",
                "received_at_ms",
                "source",
                "status",
                "type"
            ],
            "{backend}"
        );
        assert_eq!(refund["status"], "dead");
        assert_eq!(refund["order_id"], "A2");
        assert_eq!(
            refund["jobs"],
            serde_json::json!({"pending": 0, "delivered": 0, "dead": 1, "skipped": 0})
        );
        assert_eq!(
            all[1]["jobs"],
            serde_json::json!({"pending": 0, "delivered": 0, "dead": 0, "skipped": 0})
        );
        assert_eq!(
            all[1]["status"], "delivered",
            "{backend}: no jobs counts as delivered"
        );

        // The table a person reads.
        let table = cli(&app, &["events"]).await;
        let line = |id: &str| {
            table
                .lines()
                .find(|l| l.contains(id))
                .unwrap_or_else(|| panic!("{backend}: no line for {id} in\n{table}"))
                .to_owned()
        };
        assert!(
            table
                .lines()
                .next()
                .unwrap_or("")
                .contains("received (UTC)"),
            "{table}"
        );
        assert!(line("evt_refund").contains("1 dead"), "{table}");
        assert!(line("evt_refund").contains("A2"), "{table}");
        assert!(line("evt_nojobs").contains("no jobs"), "{table}");
        assert!(line("evt_waiting").contains("1 pending"), "{table}");
        assert!(line("evt_paid").contains("1 delivered"), "{table}");
        assert!(table.contains("4 events, newest first"), "{table}");

        let (ok, _, err) =
            crate::helpers::cli(&app.config_path(), &["events", "--type", "charge refunded"]).await;
        assert!(!ok, "{backend}: a pattern no rule could use is refused");
        assert!(err.contains("--type"), "{err}");
    }
}

#[tokio::test]
async fn an_event_shows_its_jobs_and_every_attempt() {
    let (good, bad) = (HttpSink::start().await, HttpSink::start().await);
    for (backend, app, _db) in apps(&good, &bad).await {
        good.fail_next(2, 503);
        // The fixture's own bytes, so the payload's key order is Stripe's.
        let body = fixture_with_id("payment_intent.succeeded", "evt_flaky");
        assert_eq!(app.post_webhook(&body).await.status(), 200);
        let jobs = app.settle("evt_flaky").await;
        assert_eq!(jobs[0].status, JobStatus::Delivered, "{backend}");

        let out = cli(&app, &["event", "evt_flaky"]).await;
        assert!(
            out.starts_with("event     evt_flaky (stripe, test mode)\n"),
            "{out}"
        );
        assert!(
            out.contains("\ntype      payment_intent.succeeded\nversion   2026-07-29.dahlia\n"),
            "{out}"
        );
        assert!(
            out.contains("\nstatus    delivered (1 delivered)\n"),
            "{out}"
        );
        assert!(out.contains("\norder     ORDER12345\n"), "{out}");
        let job_line = out
            .lines()
            .find(|l| l.contains("notify") && l.contains("good"))
            .unwrap_or_else(|| panic!("{backend}: no job line in\n{out}"));
        assert!(job_line.contains("delivered"), "{job_line}");
        let attempts: Vec<&str> = out
            .lines()
            .skip_while(|l| *l != "attempts")
            .skip(2)
            .collect();
        assert_eq!(attempts.len(), 3, "{backend}: three attempts in\n{out}");
        assert!(
            attempts[0].contains("retry") && attempts[0].contains("503"),
            "{out}"
        );
        assert!(
            attempts[1].contains("retry") && attempts[1].contains("503"),
            "{out}"
        );
        assert!(attempts[2].contains("delivered"), "{out}");

        let detail: Value =
            serde_json::from_str(&cli(&app, &["event", "evt_flaky", "--json"]).await)
                .expect("JSON");
        let mut keys: Vec<&str> = detail["event"]
            .as_object()
            .expect("event")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "amount",
                "api_version",
                "created",
                "currency",
                "customer",
                "id",
                "jobs",
                "links",
                "livemode",
                "object_id",
                "order_id",
                "received_at_ms",
                "resolved",
                "source",
                "status",
                "type"
            ],
            "{backend}"
        );
        assert_eq!(detail["event"]["status"], "delivered");
        let job = &detail["jobs"][0];
        let mut keys: Vec<&str> = job
            .as_object()
            .expect("job")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "attempts",
                "dead_at_ms",
                "history",
                "id",
                "last_error",
                "next_run_at_ms",
                "plugin",
                "rule",
                "status"
            ],
            "{backend}"
        );
        assert_eq!(job["attempts"], 3);
        assert_eq!(job["next_run_at_ms"], Value::Null, "done: nothing is due");
        let outcomes: Vec<&str> = job["history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|a| a["outcome"].as_str().expect("outcome"))
            .collect();
        assert_eq!(outcomes, ["retry", "retry", "delivered"], "{backend}");
        let first = &job["history"][0];
        assert!(
            first["error"].as_str().unwrap_or("").contains("503"),
            "{first}"
        );
        assert_eq!(
            first["duration_ms"].as_i64(),
            Some(
                first["finished_at_ms"].as_i64().unwrap_or(0)
                    - first["started_at_ms"].as_i64().unwrap_or(0)
            )
        );

        let payload = cli(&app, &["event", "evt_flaky", "--payload"]).await;
        assert!(
            payload.starts_with("{\n  \"id\": \"evt_flaky\",\n  \"object\": \"event\",\n"),
            "keys in the order received: {payload}"
        );
        let parsed: Value = serde_json::from_str(&payload).expect("the payload is JSON");
        assert_eq!(
            parsed,
            serde_json::from_slice::<Value>(&body).expect("json")
        );

        let (ok, out, err) = crate::helpers::cli(&app.config_path(), &["event", "evt_nope"]).await;
        assert!(!ok, "{backend}: an unknown event exits 1");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("no stored event stripe/evt_nope"), "{err}");
    }
}

#[tokio::test]
async fn an_event_no_rule_matched_says_so_and_help_documents_both() {
    let (good, bad) = (HttpSink::start().await, HttpSink::start().await);
    let app = app_on(None, &good, &bad).await;
    app.post_order_event("customer.subscription.created", "evt_quiet", "A4")
        .await;
    let out = cli(&app, &["event", "evt_quiet"]).await;
    assert!(out.contains("\nstatus    delivered (no jobs)\n"), "{out}");
    assert!(
        out.ends_with("\nno jobs: no rule matched this event\n"),
        "{out}"
    );
    let detail: Value =
        serde_json::from_str(&cli(&app, &["event", "evt_quiet", "--json"]).await).expect("JSON");
    assert_eq!(detail["jobs"], serde_json::json!([]));

    let help = cli(&app, &["help", "events"]).await;
    for option in [
        "--type", "--order", "--status", "--since", "--limit", "--json",
    ] {
        assert!(help.contains(option), "{option} not in\n{help}");
    }
    let help = cli(&app, &["help", "event"]).await;
    for option in ["--payload", "--json", "--source"] {
        assert!(help.contains(option), "{option} not in\n{help}");
    }
}
