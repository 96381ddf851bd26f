//! Failover between providers: an action's `fallback` chain takes the job when its
//! instance gives up (a permanent failure, retries spent, a breaker open too long),
//! under the same idempotency key, against real sinks on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use herald::clock::Clock;
use herald::dispatch::{Dispatcher, ExecutionOutcome};
use herald::metrics::Metrics;
use herald::store::{AttemptSummary, JobStatus, Store};
use herald_testkit::stripe::{event_from, fixture_json};
use herald_testkit::{DataReply, HttpSink, SmtpSink};

use crate::helpers::{
    base_config_with_dispatch, copy_dir, dispatcher_in, repo, rule, smtp_mailer, spawn_app_with,
    webhook_instance,
};

/// Short retry delays so retries happen within the test.
const FAST: &str = "backoff_base_secs = 0.01\nbackoff_max_secs = 0.05";

/// The payment fixture's event id.
const EVENT: &str = "evt_1R4QrlHrLd9TstBbciwU1NSl";

/// Three retries on the primary, then the backup delivered: the history of a job whose
/// primary kept failing.
const RETRIED_THEN_HANDED_OVER: [(&str, &str); 4] = [
    ("primary", "retry"),
    ("primary", "retry"),
    ("primary", "retry"),
    ("backup", "delivered"),
];

/// Who made each attempt and how it ended, oldest first.
fn history(attempts: &[AttemptSummary]) -> Vec<(&str, &str)> {
    attempts
        .iter()
        .map(|a| (a.plugin.as_str(), a.outcome.as_str()))
        .collect()
}

/// A Twilio instance named `name` sending to `sink`.
fn twilio(name: &str, sink: &HttpSink) -> String {
    format!(
        r#"
[plugins.sms.{name}]
provider = "twilio"
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "${{HERALD_ADMIN_TOKEN}}"
from = "+14155550100"
api_base = "{url}"
"#,
        url = sink.url()
    )
}

/// The `Idempotency-Key` of every request `sink` received, in order.
fn keys(sink: &HttpSink) -> Vec<String> {
    sink.received()
        .iter()
        .map(|request| request.header("idempotency-key").unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_primary_answering_500_forever_hands_over_to_the_fallback_once_with_the_same_key() {
    let (primary, backup) = (HttpSink::start().await, HttpSink::start().await);
    primary.set_status(500);
    backup.set_status(201);
    let config = format!(
        r#"{base}{primary}{backup}
[[rules]]
name = "text-paid"
on = ["payment_intent.succeeded"]
actions = [
  {{ plugin = "primary", template = "payment_succeeded", fallback = [{{ plugin = "backup", template = "payment_succeeded" }}] }},
]
"#,
        base = base_config_with_dispatch(&format!("enabled = false\nmax_attempts = 3\n{FAST}")),
        primary = twilio("primary", &primary),
        backup = twilio("backup", &backup),
    );
    let app = spawn_app_with(&config).await;
    app.accept_fixture("payment_intent.succeeded").await;

    let jobs = app.settle(EVENT).await;
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.status, JobStatus::Delivered);
    assert_eq!(
        (job.delivered_by.as_deref(), job.failovers),
        (Some("backup"), 1)
    );
    let key = format!("stripe:{EVENT}:text-paid:0");
    assert_eq!(job.idempotency_key, key);
    assert_eq!(keys(&primary), [key.as_str(); 3], "every retry, same key");
    assert_eq!(keys(&backup), [key.as_str()], "the fallback delivered once");

    let attempts = app.store.attempts(job.id).await.expect("attempts");
    let history = history(&attempts);
    assert_eq!(history, RETRIED_THEN_HANDED_OVER);
    assert_eq!(
        app.metrics.get(
            "herald_failovers_total",
            &[("plugin", "primary"), ("to", "backup")]
        ),
        1
    );

    // The history as an operator reads it, and as scripts do.
    let id = job.id.to_string();
    let (ok, text, err) = crate::helpers::cli(&app.config_path(), &["job", &id]).await;
    assert!(ok, "{err}");
    assert!(text.contains("delivered by backup, fallback 1"), "{text}");
    assert_eq!(text.matches("primary").count(), 3, "{text}");
    let (ok, json, err) = crate::helpers::cli(&app.config_path(), &["job", &id, "--json"]).await;
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(json["job"]["delivered_by"], "backup");
    assert_eq!(json["attempts"][0]["plugin"], "primary");
    assert_eq!(json["attempts"][3]["plugin"], "backup");
}

/// The repo's templates, and an SMS receipt of the test's own, in a folder of its own.
fn templates_with_sms_receipt(dir: &std::path::Path) {
    copy_dir(&repo().join("templates"), dir);
    std::fs::write(
        dir.join("receipt.txt.hbs"),
        "SMS receipt {{order_id}}: {{money amount currency}} paid.",
    )
    .expect("receipt template");
}

#[tokio::test]
async fn an_email_refused_with_554_goes_to_the_sms_fallback_with_its_own_template() {
    let smtp = SmtpSink::start_with(DataReply::PermFail).await;
    let sms = HttpSink::start().await;
    sms.set_status(201);
    let templates = tempfile::TempDir::new().expect("dir");
    templates_with_sms_receipt(templates.path());
    let config = format!(
        r#"{base}
{mailer}{texts}
[[rules]]
name = "receipt"
on = ["payment_intent.succeeded"]
actions = [
  {{ plugin = "mailer", template = "payment_succeeded", to = "{{{{customer.email}}}}", fallback = [
    {{ plugin = "texts", template = "receipt" }},
  ] }},
]
"#,
        base = base_config_with_dispatch("enabled = false").replace(
            &repo().join("templates").display().to_string(),
            &templates.path().display().to_string()
        ),
        mailer = smtp_mailer(smtp.port()),
        texts = twilio("texts", &sms),
    );
    let app = spawn_app_with(&config).await;
    app.accept_fixture("payment_intent.succeeded").await;

    let jobs = app.settle(EVENT).await;
    assert_eq!(jobs[0].status, JobStatus::Delivered);
    assert_eq!(jobs[0].delivered_by.as_deref(), Some("texts"));
    let attempts = app.store.attempts(jobs[0].id).await.expect("attempts");
    let history = history(&attempts);
    assert_eq!(history, [("mailer", "failed"), ("texts", "delivered")]);
    assert!(
        attempts[0].error.as_deref().unwrap_or("").contains("554"),
        "{attempts:?}"
    );
    assert!(smtp.received().is_empty(), "the relay took nothing");

    let sent = sms.received();
    assert_eq!(sent.len(), 1);
    let body = String::from_utf8_lossy(&sent[0].body).replace('+', " ");
    assert!(
        body.contains("SMS receipt ORDER12345"),
        "its own template: {body}"
    );
    assert_eq!(
        sent[0].header("idempotency-key"),
        Some(format!("stripe:{EVENT}:receipt:0").as_str())
    );

    // `herald event` names the instance of each attempt.
    let (ok, text, err) = crate::helpers::cli(&app.config_path(), &["event", EVENT]).await;
    assert!(ok, "{err}");
    let rows: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("failed") || line.contains("delivered"))
        .collect();
    assert!(
        rows.iter()
            .any(|row| row.contains("mailer") && row.contains("failed")),
        "{text}"
    );
    assert!(
        rows.iter()
            .any(|row| row.contains("texts") && row.contains("delivered")),
        "{text}"
    );
}

/// A dispatcher over a fresh SQLite store, on `config`, reading the time from `clock`,
/// with the payment fixture stored.
async fn dispatcher_on(
    config: &str,
    clock: &Clock,
) -> (tempfile::TempDir, Dispatcher, Store, Arc<Metrics>) {
    let dir = tempfile::TempDir::new().expect("dir");
    let shop = dispatcher_in(dir.path(), config, clock).await;
    shop.receive(
        &event_from(fixture_json("payment_intent.succeeded")),
        clock.now_ms(),
    )
    .await;
    (dir, shop.dispatcher, shop.store, shop.metrics)
}

/// Steps `dispatcher` until nothing is due at the clock's time.
async fn step(dispatcher: &Dispatcher) {
    while dispatcher.run_once().await.expect("step") != ExecutionOutcome::EmptyQueue {}
}

#[tokio::test]
async fn a_primary_whose_breaker_stays_open_hands_over_after_failover_after_secs() {
    let (primary, backup) = (HttpSink::start().await, HttpSink::start().await);
    primary.set_status(503);
    let dispatch = format!(
        "enabled = false\nmax_attempts = 1000\nbreaker_failures = 1\nbreaker_cooldown_secs = 10\n{FAST}"
    );
    let config = [
        base_config_with_dispatch(&dispatch),
        "[database]\nurl = \"sqlite://herald.db\"\n".to_owned(),
        webhook_instance("primary", &primary.url()),
        "failover_after_secs = 60\n".to_owned(),
        webhook_instance("backup", &backup.url()),
        rule(
            "notify",
            r#"["*"]"#,
            r#"plugin = "primary", fallback = [{ plugin = "backup" }]"#,
        ),
    ]
    .concat();
    // The clock stands still unless the test moves it: what has not happened
    // by a given time is read from the store, with no sleep.
    let clock = Clock::manual(herald::clock::now_ms());
    let (_dir, dispatcher, store, metrics) = dispatcher_on(&config, &clock).await;

    let mut handed_over_at = None;
    for second in (0..=120).step_by(5) {
        if second > 0 {
            clock.advance(Duration::from_secs(5));
        }
        step(&dispatcher).await;
        let job = &store.jobs_for_event("stripe", EVENT).await.expect("jobs")[0];
        if job.plugin == "backup" {
            handed_over_at.get_or_insert(second);
            if job.status == JobStatus::Delivered {
                break;
            }
        } else {
            assert!(backup.received().is_empty(), "at {second} s");
        }
    }
    assert_eq!(handed_over_at, Some(60), "handed over once open for 60 s");
    assert!(dispatcher.breaker("primary").expect("breaker").is_open());
    let job = &store.jobs_for_event("stripe", EVENT).await.expect("jobs")[0];
    assert_eq!(job.status, JobStatus::Delivered);
    assert_eq!(job.delivered_by.as_deref(), Some("backup"));
    assert_eq!(keys(&backup), [format!("stripe:{EVENT}:notify:0")]);
    let attempts = store.attempts(job.id).await.expect("attempts");
    let history = history(&attempts);
    // The first try, then a probe each time the breaker's cooldown ran out
    // (10 s, then 20 s later); held back in between, with no attempt spent.
    assert_eq!(history, RETRIED_THEN_HANDED_OVER);
    assert_eq!(
        metrics.get(
            "herald_failovers_total",
            &[("plugin", "primary"), ("to", "backup")]
        ),
        1
    );
}

#[tokio::test]
async fn a_hand_over_moves_the_job_to_the_fallback_on_every_backend() {
    use crate::store::{later, ok, Db};
    use herald::store::{AttemptOutcome, AttemptRecord, Handover};

    for (name, store, _guard) in crate::helpers::backends().await {
        let db = Db::new(name, &store);
        let (_, ids) = db
            .ingest("evt_fo", &[("notify", "email"), ("other", "email")])
            .await;
        let now = later();
        let claimed = db.claim(now, 2).await;
        let (first, second) = (&claimed[0], &claimed[1]);
        assert_eq!((first.failovers, first.action_index), (0, 0), "{name}");

        // After a permanent failure: the attempt is kept, named by its instance.
        let tried = AttemptRecord {
            plugin: "email".to_owned(),
            started_at_ms: now,
            finished_at_ms: now + 5,
            outcome: AttemptOutcome::Failed,
            error: Some("554 refused".to_owned()),
        };
        let next = Handover {
            plugin: "texts".to_owned(),
            params: herald_testkit::params(serde_json::json!({ "template": "receipt" })),
            failovers: 1,
            reason: "`email` gave up on it: 554 refused".to_owned(),
        };
        let handed = store
            .fail_over(first.id, first.attempt, Some(&tried), &next, now + 5)
            .await;
        ok(name, "fail_over", handed);
        // Behind a breaker: no attempt was made, so none is counted.
        let held = store
            .fail_over(second.id, second.attempt, None, &next, now + 5)
            .await;
        ok(name, "fail_over", held);

        let jobs = db.jobs("evt_fo").await;
        for job in &jobs {
            assert_eq!((job.plugin.as_str(), job.failovers), ("texts", 1), "{name}");
            assert_eq!(job.status, JobStatus::Pending, "{name}");
            assert_eq!(job.delivered_by, None, "{name}");
        }
        assert_eq!((jobs[0].attempts, jobs[1].attempts), (1, 0), "{name}");
        let attempts = ok(name, "attempts", store.attempts(ids[0]).await);
        let history = history(&attempts);
        assert_eq!(history, [("email", "failed")], "{name}");

        // Due at once for the fallback, with its parameters and the same key.
        let again = db.claim(now + 5, 2).await;
        assert_eq!(again.len(), 2, "{name}");
        assert_eq!(again[0].plugin, "texts", "{name}");
        assert_eq!(again[0].params["template"], "receipt", "{name}");
        assert_eq!(again[0].failovers, 1, "{name}");
        assert_eq!(again[0].idempotency_key, first.idempotency_key, "{name}");
        assert_eq!(again[0].attempts_since_queued, 1, "{name}: a fresh budget");

        // A stale claim cannot hand the job over again.
        let stale = store
            .fail_over(first.id, first.attempt, None, &next, now + 6)
            .await;
        ok(name, "stale fail_over", stale);
        assert_eq!(db.jobs("evt_fo").await[0].attempts, 2, "{name}: left alone");
    }
}

#[tokio::test]
async fn a_reload_that_adds_a_fallback_helps_a_job_already_failing() {
    let (primary, backup) = (HttpSink::start().await, HttpSink::start().await);
    primary.set_status(500);
    let rule = |fallback: &str| {
        format!(
            "[[rules]]\nname = \"notify\"\non = [\"*\"]\nactions = [{{ plugin = \"primary\"{fallback} }}]\n"
        )
    };
    let config = |rule: String| {
        format!(
            "{base}\n[plugins.webhook.primary]\nurl = \"{primary}\"\n\n[plugins.webhook.backup]\nurl = \"{backup}\"\n\n{rule}",
            base = base_config_with_dispatch(&format!("enabled = false\nmax_attempts = 3\n{FAST}")),
            primary = primary.url(),
            backup = backup.url(),
        )
    };
    let app = spawn_app_with(&config(rule(""))).await;
    app.accept_fixture("payment_intent.succeeded").await;
    // One step, one attempt: stepping until the queue is empty would also take the
    // retries that fall due meanwhile (the backoff is milliseconds), on a slow
    // machine all of them.
    app.dispatcher.run_once().await.expect("dispatch step");
    let job = &app.jobs(EVENT).await[0];
    assert_eq!((job.status, job.attempts), (JobStatus::Pending, 1));

    let with_fallback = config(rule(", fallback = [{ plugin = \"backup\" }]"));
    std::fs::write(app.config_path(), with_fallback).expect("config written");
    app.reload().await;

    let jobs = app.settle(EVENT).await;
    assert_eq!(jobs[0].status, JobStatus::Delivered);
    assert_eq!(jobs[0].delivered_by.as_deref(), Some("backup"));
    assert_eq!(primary.received().len(), 3, "its retries ran out first");
    assert_eq!(backup.received().len(), 1);
}
