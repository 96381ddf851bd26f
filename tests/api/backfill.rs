//! `herald backfill` on every backend: events stored under a config without a
//! rule get that rule's jobs, and only those, when it is added; a second run is a
//! no-op; the window narrows; a dry run lists the jobs and writes nothing; an
//! unknown rule is an error naming the rules there are.

use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_testkit::HttpSink;
use serde_json::Value;

use crate::helpers::{
    base_config, fresh_postgres, rule, spawn_app_with, webhook_instance, PgDatabase, TestApp,
};

/// `[database]` for the shared database: the PostgreSQL one, or a SQLite file in `dir`.
fn database(postgres: Option<&PgDatabase>, dir: &Path) -> String {
    let url = postgres.map_or_else(
        || format!("sqlite://{}", dir.join("herald.db").display()),
        |db| db.url.clone(),
    );
    format!("[database]\nurl = \"{url}\"\n")
}

/// The config events arrive under: payment intents go to `old`, nothing else matches.
fn before(database: &str, old: &HttpSink) -> String {
    [
        base_config(),
        database.to_owned(),
        webhook_instance("old", &old.url()),
        rule(
            "notify",
            r#"["payment_intent.*"]"#,
            r#"plugin = "old", path = "/events""#,
        ),
    ]
    .concat()
}

/// [`before`] plus `refund_hook`: large refunds go to `new`.
fn after(database: &str, old: &HttpSink, new: &HttpSink) -> String {
    [
        before(database, old),
        webhook_instance("new", &new.url()),
        rule(
            "refund_hook",
            r#"["charge.refunded"]"#,
            r#"plugin = "new", path = "/refunds""#,
        ),
        "when = \"amount >= 1000\"\n".to_owned(),
    ]
    .concat()
}

/// Posts fixture `name` as event `id`, its amounts set to `amount` when given.
async fn post(app: &TestApp, name: &str, id: &str, amount: Option<i64>) {
    let mut event = herald_testkit::stripe::fixture_json(name);
    event["id"] = Value::from(id);
    if let Some(amount) = amount {
        event["data"]["object"]["amount"] = Value::from(amount);
        event["data"]["object"]["amount_refunded"] = Value::from(amount);
    }
    let body = serde_json::to_vec(&event).expect("json");
    assert_eq!(app.post_webhook(&body).await.status(), 200, "{id}");
}

async fn received_at(app: &TestApp, id: &str) -> i64 {
    let detail = app
        .store
        .event_detail("stripe", id)
        .await
        .expect("read")
        .expect("stored");
    detail.received_at_ms
}

async fn backfill(config: &Path, args: &[&str]) -> String {
    let mut all = vec!["backfill", "--rule", "refund_hook"];
    all.extend_from_slice(args);
    let (ok, out, err) = crate::helpers::cli(config, &all).await;
    assert!(ok, "herald {all:?} failed: {err}");
    out
}

/// An RFC 3339 time with milliseconds.
fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("a time")
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn jobs(app: &TestApp, id: &str) -> Vec<herald::store::JobSummary> {
    app.jobs(id).await
}

async fn backfill_adds_only_the_new_rules_jobs(label: &str, postgres: Option<&PgDatabase>) {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let database = database(postgres, dir.path());
    let (old, new) = (HttpSink::start().await, HttpSink::start().await);
    let app = spawn_app_with(&before(&database, &old)).await;
    post(&app, "payment_intent.succeeded", "evt_paid", None).await;
    post(&app, "charge.refunded", "evt_small", Some(50)).await;
    post(&app, "charge.refunded", "evt_early", Some(4998)).await;
    let early = received_at(&app, "evt_early").await;
    // The next event must arrive a millisecond later, for the window to split them.
    while chrono::Utc::now().timestamp_millis() <= early {
        tokio::task::yield_now().await;
    }
    post(&app, "charge.refunded", "evt_late", Some(4998)).await;
    let late = received_at(&app, "evt_late").await;
    assert!(late > early, "{label}");
    app.dispatch_all_pending().await;
    assert_eq!(old.delivered().len(), 1, "{label}: notify ran once");
    app.stop();

    let config: PathBuf = dir.path().join("after.toml");
    std::fs::write(&config, after(&database, &old, &new)).expect("config written");

    // A dry run lists both large refunds and writes nothing.
    let out = backfill(&config, &["--dry-run"]).await;
    for id in ["evt_early", "evt_late"] {
        assert!(
            out.contains(&format!("stripe:{id}:refund_hook:0")),
            "{label}: {out}"
        );
    }
    assert!(
        !out.contains("evt_small") && !out.contains("evt_paid"),
        "{label}: {out}"
    );
    assert!(
        out.contains("dry run: would backfill 2 jobs for 2 events; 0 already had them (4 events read, 2 matched rule refund_hook)"),
        "{label}: {out}"
    );
    assert!(
        jobs(&app, "evt_early").await.is_empty(),
        "{label}: dry run wrote"
    );
    let listed: Value =
        serde_json::from_str(&backfill(&config, &["--dry-run", "--json"]).await).expect("json");
    assert_eq!(listed["jobs"][0]["event_id"], "evt_early", "{label}");
    assert_eq!(listed["jobs"][0]["plugin"], "new", "{label}");
    assert_eq!(listed["jobs"][0]["received_at_ms"], early, "{label}");

    // --since and --until narrow the window.
    let out = backfill(&config, &["--dry-run", "--since", &rfc3339(late)]).await;
    assert!(
        out.contains("evt_late") && !out.contains("evt_early"),
        "{label}: {out}"
    );
    let out = backfill(&config, &["--until", &rfc3339(late)]).await;
    assert!(
        out.contains("backfilled 1 job for 1 event; 0 already had them (3 events read"),
        "{label}: {out}"
    );
    assert_eq!(jobs(&app, "evt_early").await.len(), 1, "{label}");
    assert!(jobs(&app, "evt_late").await.is_empty(), "{label}");

    // The rest, then nothing.
    let out = backfill(&config, &[]).await;
    assert!(
        out.contains("backfilled 1 job for 1 event; 1 already had them"),
        "{label}: {out}"
    );
    let out = backfill(&config, &[]).await;
    assert!(
        out.contains("backfilled 0 jobs for 0 events; 2 already had them"),
        "{label}: {out}"
    );
    assert!(
        jobs(&app, "evt_small").await.is_empty(),
        "{label}: `when` skipped it"
    );

    // Delivered under the new config: the refunds go out, the old mail does not.
    let served = spawn_app_with(&after(&database, &old, &new)).await;
    served.dispatch_all_pending().await;
    let refunds = new.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(refunds.len(), 2, "{label}");
    assert_eq!(
        old.delivered().len(),
        1,
        "{label}: notify was not sent again"
    );
    let paid = jobs(&served, "evt_paid").await;
    assert_eq!(paid.len(), 1, "{label}");
    assert_eq!(paid[0].attempts, 1, "{label}: notify's job untouched");
    for id in ["evt_early", "evt_late"] {
        let jobs = jobs(&served, id).await;
        assert_eq!(jobs.len(), 1, "{label}");
        assert_eq!(jobs[0].status, "delivered", "{label}");
    }
}

#[tokio::test]
async fn backfill_adds_only_the_new_rules_jobs_on_sqlite() {
    backfill_adds_only_the_new_rules_jobs("sqlite", None).await;
}

#[tokio::test]
async fn backfill_adds_only_the_new_rules_jobs_on_postgres() {
    if let Some(database) = fresh_postgres().await {
        backfill_adds_only_the_new_rules_jobs("postgres", Some(&database)).await;
    }
}

#[tokio::test]
async fn an_unknown_rule_is_an_error_naming_the_rules() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let (old, new) = (HttpSink::start().await, HttpSink::start().await);
    let config = dir.path().join("config.toml");
    std::fs::write(&config, after(&database(None, dir.path()), &old, &new)).expect("written");
    let (ok, out, err) = crate::helpers::cli(&config, &["backfill", "--rule", "refund_hok"]).await;
    assert!(!ok, "{out}");
    assert_eq!(
        err.trim(),
        "error: no rule named `refund_hok`; the config's rules are: notify, refund_hook"
    );
}

/// More events than one page: every page is read, each event gets its job once,
/// and events the rule's `on` does not match are skipped.
#[tokio::test]
async fn a_long_history_is_backfilled_page_by_page_on_every_backend() {
    use herald::backfill::{backfill, find_rule, Window};

    let (old, new) = (HttpSink::start().await, HttpSink::start().await);
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("config.toml");
    let text = after(&database(None, dir.path()), &old, &new);
    let config =
        herald::Config::from_toml(&text, &path, &crate::helpers::test_env()).expect("config valid");
    let rule = find_rule(&config.reloadable.rules, "refund_hook").expect("the rule");
    for (label, store, _guard) in crate::helpers::backends().await {
        for n in 0..450 {
            let kind = if n % 3 == 0 {
                "charge.succeeded"
            } else {
                "charge.refunded"
            };
            let event = herald_plugin_api::Event {
                id: format!("evt_{n}"),
                ..herald_testkit::event(kind, serde_json::json!({ "id": format!("ch_{n}") }))
            };
            store
                .ingest(&event, Vec::new(), 1_000 + n)
                .await
                .expect("stored");
        }
        let mut pages = Vec::new();
        let report = backfill(&store, rule, Window::default(), false, &mut |read| {
            pages.push(read);
        })
        .await
        .expect("backfill");
        assert_eq!(pages, [200, 400, 450], "{label}: progress per page");
        assert_eq!((report.scanned, report.matched), (450, 300), "{label}");
        assert_eq!(
            (report.jobs.len(), report.events, report.already),
            (300, 300, 0),
            "{label}"
        );
        let again = backfill(&store, rule, Window::default(), false, &mut |_| {})
            .await
            .expect("backfill again");
        assert_eq!((again.jobs.len(), again.already), (0, 300), "{label}");
        let window = Window {
            since_ms: Some(1_100),
            until_ms: Some(1_200),
        };
        let dry = backfill(&store, rule, window, true, &mut |_| {})
            .await
            .expect("dry run");
        assert_eq!((dry.scanned, dry.already), (100, 67), "{label}");
    }
}
