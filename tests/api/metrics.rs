//! `/metrics` as an SRE scrapes it: every series from the first scrape, the
//! histograms and queue gauges moving as events flow through a real SMTP server;
//! the queue read from the store on every backend; `--log-format json`.

use std::time::Duration;

use herald::store::AttemptOutcome::{Failed, RetryAt};
use herald_testkit::{DataReply, SmtpSink};

use crate::helpers::{
    backends, base_config, fixture, mailed_payments, signature, spawn_app_with, HeraldProcess,
    TestApp, SECRET,
};
use crate::store::{later, ok, Db, RECEIVED};

/// One mail instance, `mailer`, on the SMTP server at `port`, for payments.
fn config(port: u16) -> String {
    format!("{}\n{}", base_config(), mailed_payments(port, ""))
}

/// What `/metrics` shows, read over HTTP as Prometheus would.
async fn scrape(app: &TestApp) -> String {
    let response = app.get(app.url("/metrics")).await;
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.text().await.expect("text")
}

/// The value of `series` in `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

/// Scrapes until `series` shows `expected` (the queue gauges are read at most
/// once a second).
async fn wait_for(app: &TestApp, series: &str, expected: f64) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = scrape(app).await;
        if value(&text, series) == Some(expected) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{series} never became {expected}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_series_exists_from_the_start_and_the_histograms_move_as_events_flow() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(&config(sink.port())).await;
    let text = scrape(&app).await;
    for series in [
        r#"herald_webhooks_total{source="stripe",type="payment_intent.succeeded",outcome="stored"}"#,
        r#"herald_webhooks_total{source="stripe",type="payment_intent.succeeded",outcome="duplicate"}"#,
        r#"herald_webhooks_rejected_total{source="stripe",reason="bad_signature"}"#,
        r#"herald_webhooks_rejected_total{source="unknown",reason="unknown_source"}"#,
        r#"herald_http_refusals_total{reason="connection_limit"}"#,
        r#"herald_connections_closed_total{reason="idle_timeout"}"#,
        r#"herald_webhook_ack_seconds_count{source="stripe"}"#,
        r#"herald_deliveries_total{plugin="mailer",outcome="delivered"}"#,
        r#"herald_deliveries_total{plugin="mailer",outcome="retry"}"#,
        r#"herald_deliveries_total{plugin="mailer",outcome="failed"}"#,
        r#"herald_deliveries_total{plugin="mailer",outcome="exhausted"}"#,
        r#"herald_deliveries_held_total{plugin="mailer"}"#,
        r#"herald_deliveries_deferred_total{plugin="mailer"}"#,
        r#"herald_delivery_seconds_count{plugin="mailer"}"#,
        r#"herald_webhook_to_delivery_seconds_count{plugin="mailer"}"#,
        r#"herald_queue_jobs{plugin="mailer",state="due"}"#,
        r#"herald_queue_jobs{plugin="mailer",state="retrying"}"#,
        r#"herald_queue_jobs{plugin="mailer",state="leased"}"#,
        r#"herald_queue_oldest_due_age_seconds{plugin="mailer"}"#,
        r#"herald_dead_letters{plugin="mailer"}"#,
        r#"herald_breaker_open{plugin="mailer"}"#,
        r#"herald_config_reloads_total{outcome="ok"}"#,
        r#"herald_config_reloads_total{outcome="failed"}"#,
        "herald_leases_taken_back_total",
    ] {
        assert_eq!(value(&text, series), Some(0.0), "{series} in:\n{text}");
    }
    let loaded = value(&text, "herald_config_last_reload_success_timestamp_seconds");
    assert!(loaded.is_some_and(|at| at > 1.0e9), "{text}");
    assert!(text.contains("herald_build_info{version=\""), "{text}");
    for family in [
        "herald_webhook_ack_seconds",
        "herald_delivery_seconds",
        "herald_queue_jobs",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} help:\n{text}"
        );
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} type:\n{text}"
        );
    }

    app.accept_fixture("payment_intent.succeeded").await;
    let text = wait_for(
        &app,
        r#"herald_queue_jobs{plugin="mailer",state="due"}"#,
        1.0,
    )
    .await;
    let stored = r#"herald_webhooks_total{source="stripe",type="payment_intent.succeeded",outcome="stored"}"#;
    assert_eq!(value(&text, stored), Some(1.0), "{text}");
    assert_eq!(
        value(
            &text,
            r#"herald_webhook_ack_seconds_count{source="stripe"}"#
        ),
        Some(1.0)
    );
    assert!(value(
        &text,
        r#"herald_queue_oldest_due_age_seconds{plugin="mailer"}"#
    )
    .is_some_and(|age| age >= 0.0));

    assert_eq!(app.dispatch_all_pending().await, 1);
    assert_eq!(sink.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    let text = wait_for(
        &app,
        r#"herald_queue_jobs{plugin="mailer",state="due"}"#,
        0.0,
    )
    .await;
    for series in [
        r#"herald_deliveries_total{plugin="mailer",outcome="delivered"}"#,
        r#"herald_delivery_seconds_count{plugin="mailer"}"#,
        r#"herald_webhook_to_delivery_seconds_count{plugin="mailer"}"#,
    ] {
        assert_eq!(value(&text, series), Some(1.0), "{series} in:\n{text}");
    }
    let took = value(&text, r#"herald_delivery_seconds_sum{plugin="mailer"}"#);
    assert!(took.is_some_and(|secs| secs > 0.0), "{text}");
    let in_buckets = value(
        &text,
        r#"herald_delivery_seconds_bucket{plugin="mailer",le="+Inf"}"#,
    );
    assert_eq!(in_buckets, Some(1.0), "{text}");

    // A refused webhook counts by reason, and is timed too.
    let body = fixture("payment_intent.succeeded");
    let forged = app.post_raw(body, Some(signature(b"another body"))).await;
    assert_eq!(forged.status(), 401);
    let text = scrape(&app).await;
    let refused = r#"herald_webhooks_rejected_total{source="stripe",reason="bad_signature"}"#;
    assert_eq!(value(&text, refused), Some(1.0), "{text}");
    assert_eq!(
        value(
            &text,
            r#"herald_webhook_ack_seconds_count{source="stripe"}"#
        ),
        Some(2.0)
    );
}

#[tokio::test]
async fn a_retry_waits_as_retrying_and_a_refusal_shows_as_a_dead_letter() {
    for (reply, series) in [
        (
            DataReply::TempFail,
            r#"herald_queue_jobs{plugin="mailer",state="retrying"}"#,
        ),
        (
            DataReply::PermFail,
            r#"herald_dead_letters{plugin="mailer"}"#,
        ),
    ] {
        let sink = SmtpSink::start_with(reply).await;
        let app = spawn_app_with(&config(sink.port())).await;
        app.accept_fixture("payment_intent.succeeded").await;
        assert_eq!(app.dispatch_all_pending().await, 1);
        let text = wait_for(&app, series, 1.0).await;
        let due = value(&text, r#"herald_queue_jobs{plugin="mailer",state="due"}"#);
        assert_eq!(due, Some(0.0), "{text}");
        assert_eq!(
            value(
                &text,
                r#"herald_webhook_to_delivery_seconds_count{plugin="mailer"}"#
            ),
            Some(0.0)
        );
    }
}

#[tokio::test]
async fn the_queue_depth_counts_due_retrying_leased_and_dead_jobs_by_plugin() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let (_, first) = db.ingest("evt_q1", &[("r", "mail"), ("r", "hook")]).await;
        let (_, third) = db.ingest("evt_q3", &[("r", "hook")]).await;
        assert_eq!(db.claim_ids(later(), 3).await.len(), 3, "{name}");
        db.record(first[1], 1, RetryAt(later() + 10_000), later())
            .await;
        db.record(third[0], 1, Failed, later()).await;
        db.ingest("evt_q2", &[("r", "mail")]).await;

        let depth = ok(name, "queue_depth", store.queue_depth(later()).await);
        let rows: Vec<_> = depth
            .iter()
            .map(|d| {
                (
                    d.plugin.as_str(),
                    d.due,
                    d.retrying,
                    d.leased,
                    d.oldest_due_at_ms,
                    d.dead,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("hook", 0, 1, 0, None, 1),
                ("mail", 1, 0, 1, Some(RECEIVED), 0)
            ],
            "{name}"
        );
    }
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_job_fields_and_no_secret_or_mail_body() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::TempDir::new().expect("temp dir");
    let text = config(sink.port()).replace("enabled = false", "poll_interval_ms = 50");
    let text = format!(
        "{text}\n[database]\nurl = \"sqlite://{}\"\n",
        dir.path().join("herald.db").display()
    );
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("config written");
    let herald = HeraldProcess::start_with(&path, &["--log-format", "json"]).await;

    let body = fixture("payment_intent.succeeded");
    herald.post_signed(body).await;
    let mails = sink.wait_for(1, Duration::from_secs(20)).await;
    let lines = herald.log_until("\"delivered\"").await;
    let listening = herald.listening_line.clone();
    herald.signal("-TERM");
    herald.wait().await;

    let mut objects = Vec::new();
    for line in std::iter::once(&listening).chain(&lines) {
        let object: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(object.is_object() && object["level"].is_string(), "{line}");
        objects.push(object);
    }
    let delivered = objects
        .iter()
        .find(|o| o["message"] == "delivered")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(delivered["job_id"].is_number(), "{delivered}");
    assert_eq!(
        delivered["event_id"], "evt_1R4QrlHrLd9TstBbciwU1NSl",
        "{delivered}"
    );
    assert_eq!(delivered["plugin"], "mailer", "{delivered}");
    let stored = objects
        .iter()
        .find(|o| o["message"] == "event stored")
        .expect("stored logged");
    assert_eq!(
        stored["event_id"], "evt_1R4QrlHrLd9TstBbciwU1NSl",
        "{stored}"
    );

    let log = lines.join("\n");
    assert!(
        !log.contains(SECRET),
        "the webhook secret was logged:\n{log}"
    );
    let mail = crate::email::decoded(&mails[0].data);
    let body_line = mail
        .lines()
        .find(|line| line.contains("$49.98"))
        .expect("the mail shows the amount");
    assert!(
        !log.contains("$49.98"),
        "the mail body was logged ({body_line}):\n{log}"
    );
}

#[tokio::test]
async fn metrics_listen_moves_metrics_off_the_webhook_listener() {
    let text = format!("{}\n[metrics]\nlisten = \"127.0.0.1:0\"\n", base_config());
    let app = spawn_app_with(&text).await;
    let addr = app.metrics_addr.expect("a metrics listener");
    let moved = app
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scraped");
    assert_eq!(moved.status(), 200);
    let text = moved.text().await.expect("text");
    assert!(text.contains("herald_webhooks_rejected_total{"), "{text}");
    let webhook_listener = app.get(app.url("/metrics")).await;
    assert_eq!(webhook_listener.status(), 404);
    let nothing_else = app
        .client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("asked");
    assert_eq!(
        nothing_else.status(),
        404,
        "the metrics listener serves /metrics alone"
    );
}
