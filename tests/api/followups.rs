//! Follow-ups (issue 33): X, unless Y within T. The clock is injected: a test moves it
//! past a deadline instead of waiting. On SQLite and PostgreSQL, with a restart in
//! the middle of the wait and two replicas at the deadline.

use std::time::Duration;

use herald::store::JobStatus;
use herald_testkit::HttpSink;
use serde_json::Value;

use crate::helpers::{base_config, normalized, sample, webhook_instance, BackendShop};

const FAILED: &str = "invoice.payment_failed";
const PAID: &str = "invoice.paid";
const THREE_DAYS: Duration = Duration::from_secs(3 * 86_400);

/// A sink, and a follow-up posting to it when a failed invoice is still unpaid after
/// three days.
fn config(sink: String) -> impl Fn(&std::path::Path, &str) -> String {
    move |_dir, url| {
        [
            base_config(),
            format!("[database]\nurl = \"{url}\"\n"),
            webhook_instance("sink", &sink),
            format!(
                "\n[[followups]]\nname = \"invoice-still-unpaid\"\nafter = [\"{FAILED}\"]\n\
                 unless = [\"{PAID}\"]\nwithin = \"3d\"\nactions = [{{ plugin = \"sink\" }}]\n"
            ),
        ]
        .concat()
    }
}

/// Event `id` of type `kind` about invoice `invoice`, created `ago` seconds before `now_ms`.
fn invoice_event(kind: &str, id: &str, invoice: &str, now_ms: i64, ago: i64) -> Value {
    let mut event = sample(kind);
    event["id"] = id.into();
    event["created"] = (now_ms / 1000 - ago).into();
    event["data"]["object"]["id"] = invoice.into();
    event
}

impl BackendShop {
    async fn receive_json(&self, event: &Value) {
        self.receive_event(&normalized(event)).await;
    }

    async fn job_states(&self, id: &str) -> Vec<(JobStatus, Option<String>)> {
        let jobs = self
            .shop
            .store
            .jobs_for_event("stripe", id)
            .await
            .expect("jobs");
        jobs.into_iter()
            .map(|job| (job.status, job.last_error))
            .collect()
    }
}

#[tokio::test]
async fn a_failed_invoice_still_unpaid_after_three_days_gets_one_follow_up() {
    let sink = HttpSink::start().await;
    let config = config(sink.url());
    for (backend, shop) in BackendShop::each(&config).await {
        let before = sink.received().len();
        let now = shop.clock.now_ms();
        shop.receive_json(&invoice_event(FAILED, "evt_f1", "in_1", now, 10))
            .await;
        // The second attempt fails too: the same invoice starts nothing more.
        shop.receive_json(&invoice_event(FAILED, "evt_f2", "in_1", now, 5))
            .await;
        assert!(shop.job_states("evt_f2").await.is_empty(), "{backend}");
        shop.deliver().await;
        assert_eq!(
            shop.job_states("evt_f1").await[0].0,
            JobStatus::Pending,
            "{backend}"
        );
        assert_eq!(
            sink.received().len(),
            before,
            "{backend}: nothing before the deadline"
        );

        let pending = shop
            .shop
            .store
            .pending_followups(&["invoice-still-unpaid"], 10)
            .await;
        let pending = pending.expect("read");
        assert_eq!(pending.len(), 1, "{backend}");
        assert_eq!(pending[0].due_at_ms, (now / 1000 - 10) * 1000 + 259_200_000);

        shop.clock.advance(THREE_DAYS);
        shop.deliver().await;
        assert_eq!(
            shop.job_states("evt_f1").await[0].0,
            JobStatus::Delivered,
            "{backend}"
        );
        assert_eq!(sink.received().len(), before + 1, "{backend}");
    }
}

#[tokio::test]
async fn a_payment_created_after_the_failure_cancels_it_whatever_the_arrival_order() {
    let sink = HttpSink::start().await;
    let config = config(sink.url());
    for (backend, shop) in BackendShop::each(&config).await {
        let before = sink.received().len();
        let now = shop.clock.now_ms();
        // Paid after it failed.
        shop.receive_json(&invoice_event(FAILED, "evt_a1", "in_a", now, 100))
            .await;
        shop.receive_json(&invoice_event(PAID, "evt_a2", "in_a", now, 50))
            .await;
        // Paid after it failed, but the payment arrives first.
        shop.receive_json(&invoice_event(PAID, "evt_b2", "in_b", now, 50))
            .await;
        shop.receive_json(&invoice_event(FAILED, "evt_b1", "in_b", now, 100))
            .await;
        // An older payment (an earlier invoice period, say) cancels nothing.
        shop.receive_json(&invoice_event(PAID, "evt_c0", "in_c", now, 500))
            .await;
        shop.receive_json(&invoice_event(FAILED, "evt_c1", "in_c", now, 100))
            .await;
        // Another invoice's payment cancels nothing.
        shop.receive_json(&invoice_event(FAILED, "evt_d1", "in_d", now, 100))
            .await;

        shop.clock.advance(THREE_DAYS);
        shop.deliver().await;
        for id in ["evt_a1", "evt_b1"] {
            let (status, reason) = shop.job_states(id).await.remove(0);
            assert_eq!(status, JobStatus::Skipped, "{backend}: {id}");
            let reason = reason.unwrap_or_default();
            assert!(reason.contains("invoice.paid"), "{backend}: {reason}");
        }
        for id in ["evt_c1", "evt_d1"] {
            assert_eq!(
                shop.job_states(id).await[0].0,
                JobStatus::Delivered,
                "{backend}: {id}"
            );
        }
        assert_eq!(sink.received().len(), before + 2, "{backend}");
    }
}

#[tokio::test]
async fn a_restart_in_the_wait_and_two_replicas_at_the_deadline_send_it_once() {
    let sink = HttpSink::start().await;
    let config = config(sink.url());
    for (backend, shop) in BackendShop::each(&config).await {
        let before = sink.received().len();
        let now = shop.clock.now_ms();
        shop.receive_json(&invoice_event(FAILED, "evt_r1", "in_r", now, 10))
            .await;
        shop.deliver().await;
        // herald restarts halfway through the wait: a new process, the same database,
        // and a second replica beside it (on SQLite: the same file).
        shop.clock.advance(THREE_DAYS / 2);
        let text = config(shop.dir.path(), &url_of(&shop));
        let first = crate::helpers::dispatcher_in(shop.dir.path(), &text, &shop.clock).await;
        let second = crate::helpers::dispatcher_in(shop.dir.path(), &text, &shop.clock).await;
        shop.clock.advance(THREE_DAYS);
        let (a, b) = tokio::join!(first.dispatcher.run_once(), second.dispatcher.run_once());
        a.expect("step");
        b.expect("step");
        assert_eq!(
            shop.job_states("evt_r1").await[0].0,
            JobStatus::Delivered,
            "{backend}"
        );
        let sent = sink.received().len() - before;
        assert_eq!(sent, 1, "{backend}: once, late, after the restart");
    }
}

/// The database URL `shop` runs on.
fn url_of(shop: &BackendShop) -> String {
    shop.shop.config.restart.database.display.clone()
}

#[test]
fn a_follow_up_says_what_is_missing_or_wrong_at_its_line() {
    let entry = |body: &str| {
        format!(
            "{}\n[plugins.webhook.sink]\nurl = \"http://127.0.0.1:9/\"\n\n[[followups]]\nname = \"f\"\n\
             after = [\"invoice.payment_failed\"]\nactions = [{{ plugin = \"sink\" }}]\n{body}",
            base_config()
        )
    };
    let refused = |body: &str| {
        let dir = tempfile::TempDir::new().expect("dir");
        herald::Config::from_toml(
            &entry(body),
            &dir.path().join("c.toml"),
            &crate::helpers::test_env(),
        )
        .err()
        .map(|err| err.to_string())
        .unwrap_or_default()
    };
    let err = refused("unless = [\"invoice.paid\"]\n");
    assert!(err.contains("says neither when"), "{err}");
    let err = refused(
        "unless = [\"invoice.paid\"]\nwithin = \"3d\"\ndeadline = \"data.object.due_date\"\n",
    );
    assert!(err.contains("sets both within and deadline"), "{err}");
    let err = refused("within = \"3d\"\n");
    assert!(err.contains("followups[0] (f).unless"), "{err}");
    let err = refused("unless = [\"invoice.paid\"]\nwithin = \"3 days\"\n");
    assert!(err.contains("not a span of time"), "{err}");
    let err = refused("unless = [\"invoice.paid\"]\nwithin = \"3d\"\nmatch = \"invoice\"\n");
    assert!(
        err.contains("\"object\", \"order\", \"customer\" or \"subscription\""),
        "{err}"
    );
    assert!(
        refused("unless = [\"invoice.paid\"]\nwithin = \"3d\"\nmatch = \"customer\"\n").is_empty()
    );
    let twin = "unless = [\"invoice.paid\"]\nwithin = \"3d\"\n\n[[rules]]\nname = \"f\"\n\
                on = [\"charge.refunded\"]\nactions = [{ plugin = \"sink\" }]\n";
    let err = refused(twin);
    assert!(
        err.contains("another rule, follow-up or digest is already named `f`"),
        "{err}"
    );
}

#[tokio::test]
async fn the_shipped_follow_ups_wait_and_are_listed_by_the_cli_and_the_api() {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut table: toml::Table =
        toml::from_str(&crate::helpers::shipped_config_in(dir.path())).expect("toml");
    table["admin"]
        .as_table_mut()
        .expect("[admin]")
        .insert("token".into(), "${HERALD_ADMIN_TOKEN}".into());
    let text = toml::to_string(&table).expect("toml");
    let app = crate::helpers::spawn_app_in(dir, &text).await;
    let mut failed = sample(FAILED);
    failed["created"] = chrono::Utc::now().timestamp().into();
    let body = serde_json::to_vec(&failed).expect("json");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    let (ok, out, err) = crate::helpers::cli(&app.config_path(), &["followups"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("invoice-still-unpaid"), "{out}");
    assert!(out.contains("1 follow-up jobs waiting"), "{out}");
    let (ok, out, err) = crate::helpers::cli(&app.config_path(), &["followups", "--json"]).await;
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).expect("json");
    let api = app.admin_json("/api/followups").await;
    assert_eq!(listed, api);
    let waiting = &api["followups"][0];
    assert_eq!(waiting["rule"], "invoice-still-unpaid");
    assert_eq!(waiting["event_type"], FAILED);
    let due = waiting["due_at_ms"].as_i64().expect("due");
    let created = failed["created"].as_i64().expect("created");
    assert_eq!(due, (created + 3 * 86_400) * 1000);
    // `herald route` explains the wait.
    let saved = app.dir.path().join("failed.json");
    std::fs::write(&saved, &body).expect("write");
    let (ok, out, err) = crate::helpers::cli(
        &app.config_path(),
        &["route", saved.to_str().expect("utf-8")],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("follow-up invoice-still-unpaid: matched"),
        "{out}"
    );
    assert!(
        out.contains(
            "runs then unless invoice.paid, invoice.voided, invoice.marked_uncollectible about in_"
        ),
        "{out}"
    );
}
