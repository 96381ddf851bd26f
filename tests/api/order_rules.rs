//! Rules that read the order (issue 21): `order.…` is evaluated when the job is
//! delivered, against the order folded from every event stored by then, so the
//! shipped config's "payment failed" mail is skipped for an order already paid.

use herald::store::{
    AttemptOutcome, AttemptRecord, EventFilter, EventStatus, IngestOutcome, NewJob,
};
use herald_plugin_api::{Event, Payload};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::{Map, Value};

use crate::helpers::{backends, base_config, fixture, fixture_names, spawn_app, spawn_app_with};

const FAILED: &str = "payment_intent.payment_failed";

fn event_id(name: &str) -> String {
    let event: Value = serde_json::from_slice(&fixture(name)).expect("fixture is JSON");
    event["id"].as_str().expect("id").to_owned()
}

/// The 13 fixtures shuffled with the first seed from 21 on that makes the issue's
/// case: the failure (the oldest event) arrives after the payment and the refund.
/// A fixed seed would do, but this one stays right should the shuffle change.
fn late_failure_order() -> Vec<String> {
    let fixtures = fixture_names();
    assert_eq!(fixtures.len(), 13, "{fixtures:?}");
    (21..1000)
        .map(|seed| {
            let mut names = fixtures.clone();
            names.shuffle(&mut StdRng::seed_from_u64(seed));
            names
        })
        .find(|names| {
            let at = |name: &str| names.iter().position(|n| n == name);
            let paid = at("payment_intent.succeeded").max(at("charge.refunded"));
            at(FAILED) > paid
        })
        .expect("some seed makes the failure late")
}

#[tokio::test]
async fn a_late_payment_failure_is_skipped_not_mailed_whatever_the_order() {
    let app = spawn_app().await;
    let names = late_failure_order();
    for name in &names {
        let response = app.post_fixture(name).await;
        assert_eq!(response.status(), 200, "{name}");
        // Deliver as a running herald would, before the next event arrives.
        app.dispatch_all_pending().await;
    }
    let failed = event_id(FAILED);
    let jobs = app.settle(&failed).await;
    let mail = jobs
        .iter()
        .find(|job| job.rule == "payment-failed")
        .expect("the failure's mail was planned");
    assert_eq!(mail.status, "skipped", "{mail:?}");
    let reason = mail.last_error.as_deref().unwrap_or_default();
    assert_eq!(
        reason,
        "`when` no longer holds at delivery: order.changed → true (true), \
         order.status == \"payment_failed\" → false (\"disputed\")"
    );
    // The orders job of the same event still records its fact.
    let orders = jobs.iter().find(|job| job.rule == "order-status");
    assert_eq!(orders.map(|job| job.status.as_str()), Some("delivered"));

    let outbox = app.outbox();
    assert!(
        outbox.iter().all(|mail| !mail.contains(":payment-failed:")),
        "a failure mail went out: {outbox:#?}"
    );
    assert!(
        outbox.iter().any(|mail| mail.contains("refund")),
        "{outbox:#?}"
    );
    let skipped = [("plugin", "customer_mail"), ("rule", "payment-failed")];
    assert_eq!(app.metrics.get("herald_jobs_skipped_total", &skipped), 1);

    // An operator sees it as skipped, with the reason.
    let config = app.config_path();
    let (ok, out, err) = crate::helpers::cli(&config, &["event", &failed]).await;
    assert!(ok, "{err}");
    assert!(out.contains("skipped"), "{out}");
    assert!(out.contains("no longer holds at delivery"), "{out}");
    let (ok, out, err) =
        crate::helpers::cli(&config, &["events", "--status", "skipped", "--json"]).await;
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    let ids: Vec<&str> = listed["events"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|event| event["id"].as_str())
        .collect();
    // The dispute's alert without an order is skipped too: its order was found.
    assert_eq!(
        ids,
        [failed.clone(), event_id("charge.dispute.created")],
        "{out}"
    );
    assert_eq!(listed["events"][0]["jobs"]["skipped"], 1, "{out}");
    let (ok, out, err) =
        crate::helpers::cli(&config, &["job", &mail.id.to_string(), "--json"]).await;
    assert!(ok, "{err}");
    let job: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(job["job"]["status"], "skipped", "{out}");
    assert_eq!(job["attempts"][0]["outcome"], "skipped", "{out}");
}

#[tokio::test]
async fn a_failure_that_moves_the_order_is_mailed() {
    let app = spawn_app().await;
    for name in ["payment_intent.created", FAILED] {
        app.accept_fixture(name).await;
    }
    let jobs = app.settle(&event_id(FAILED)).await;
    let mail = jobs.iter().find(|job| job.rule == "payment-failed");
    assert_eq!(
        mail.map(|job| job.status.as_str()),
        Some("delivered"),
        "{jobs:?}"
    );
    let outbox = app.outbox();
    assert!(
        outbox.iter().any(|mail| mail.contains("didn't go through")),
        "{outbox:#?}"
    );
}

/// An event of order A17 as the receiver stores it.
fn order_event(id: &str, kind: &str, created: i64) -> Event {
    let raw = serde_json::json!({"id": id, "type": kind, "created": created,
                                 "data": {"object": {"metadata": {"order_id": "A17"}}}});
    let mut event: Event = serde_json::from_value(serde_json::json!({
        "id": id, "source": "stripe", "type": kind, "created": created, "livemode": false,
        "object_id": null, "order_id": "A17",
        "customer": {"email": null, "phone": null, "name": null},
        "amount": null, "currency": null
    }))
    .expect("event");
    event.raw = Payload::from_body(raw.to_string().as_bytes());
    event
}

#[tokio::test]
async fn a_skipped_job_is_done_unsent_on_every_backend() {
    const AT: i64 = 1_700_000_000_000;
    for (name, store, _guard) in backends().await {
        for (id, kind, created) in [
            ("evt_paid", "payment_intent.succeeded", 20),
            ("evt_failed", "payment_intent.payment_failed", 10),
        ] {
            let event = order_event(id, kind, created);
            let key = format!("stripe:{id}:mail:0");
            let job = NewJob::new("mail", 0, "mailer", &Map::new(), &key);
            let stored = store.ingest(&event, vec![job], AT).await.expect("ingest");
            assert_eq!(stored, IngestOutcome::Stored { jobs: 1 }, "{name}");
        }
        let (events, facts) = store.order_record("A17").await.expect("order");
        let ids: Vec<&str> = events.iter().map(|event| event.id.as_str()).collect();
        assert_eq!(ids, ["evt_paid", "evt_failed"], "{name}: oldest first");
        assert!(facts.is_empty(), "{name}: no orders job ran");
        assert_eq!(
            events[1].raw["data"]["object"]["metadata"]["order_id"],
            "A17"
        );

        let claimed = store
            .claim_due(AT + 1, 60_000, 10, &[])
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 2, "{name}");
        for job in &claimed {
            let (outcome, error) = if job.event.id == "evt_failed" {
                (
                    AttemptOutcome::Skipped,
                    Some("`when` no longer holds".to_owned()),
                )
            } else {
                (AttemptOutcome::Delivered, None)
            };
            let record = AttemptRecord {
                plugin: job.plugin.clone(),
                started_at_ms: AT + 2,
                finished_at_ms: AT + 3,
                outcome,
                error,
            };
            store
                .record_attempt(job.id, job.attempt, &record)
                .await
                .expect("record");
        }
        let jobs = store
            .jobs_for_event("stripe", "evt_failed")
            .await
            .expect("jobs");
        assert_eq!(jobs[0].status, "skipped", "{name}");
        assert_eq!(jobs[0].dead_at_ms, None, "{name}: not a dead letter");
        let attempts = store.attempts(jobs[0].id).await.expect("attempts");
        assert_eq!(attempts[0].outcome, "skipped", "{name}");

        let listed = |status| {
            let filter = EventFilter {
                kind: None,
                order_id: Some("A17".to_owned()),
                status: Some(status),
                since_ms: None,
                until_ms: None,
                after: None,
                limit: 10,
            };
            let store = store.clone();
            async move {
                let events = store.events(&filter).await.expect("events");
                events.into_iter().map(|e| e.event_id).collect::<Vec<_>>()
            }
        };
        assert_eq!(listed(EventStatus::Skipped).await, ["evt_failed"], "{name}");
        assert_eq!(listed(EventStatus::Delivered).await, ["evt_paid"], "{name}");
        // Done like a delivered job: pruned with its event once past retention.
        let pruned = store.prune_delivered(AT + 10).await.expect("prune");
        assert_eq!(pruned.events, 2, "{name}");
    }
}

/// `charge.updated` follows nearly every charge, and the shipped `order-status` rule
/// sent an order's `charge.*` events to the orders ledger, which had no transition for
/// it: each became a dead letter. The shipped rule now names the types it means, and a
/// rule that still sends `charge.*` gets a skipped job, with the reason, counted.
#[tokio::test]
async fn an_event_that_says_nothing_about_its_order_is_skipped_not_a_dead_letter() {
    let mut event: Value =
        serde_json::from_slice(&fixture("charge.succeeded")).expect("fixture is JSON");
    event["id"] = Value::from("evt_charge_updated");
    event["type"] = Value::from("charge.updated");
    let body = serde_json::to_vec(&event).expect("json");

    let shipped = spawn_app().await;
    assert_eq!(shipped.post_webhook(&body).await.status(), 200);
    let jobs = shipped.settle("evt_charge_updated").await;
    assert!(
        jobs.is_empty(),
        "no shipped rule means charge.updated: {jobs:?}"
    );

    let app = spawn_app_with(&format!(
        "{}\n[plugins.orders.orders]\n\n[[rules]]\nname = \"order-status\"\n\
         on = [\"charge.*\"]\nwhen = \"order_id exists\"\nactions = [{{ plugin = \"orders\" }}]\n",
        base_config()
    ))
    .await;
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    let jobs = app.settle("evt_charge_updated").await;
    let [orders] = jobs.as_slice() else {
        panic!("one job: {jobs:?}");
    };
    assert_eq!(orders.status, "skipped", "{orders:?}");
    let reason = orders.last_error.as_deref().unwrap_or_default();
    assert!(
        reason.contains("no change") && reason.contains("charge.updated"),
        "{reason}"
    );
    assert_eq!(
        app.metrics.get(
            "herald_jobs_skipped_total",
            &[("plugin", "orders"), ("rule", "order-status")]
        ),
        1
    );
}

/// Every sample `herald trigger` offers, through the shipped config: none may end as
/// a dead letter (issue 30). Delivery goes to the outbox and the orders ledger.
#[tokio::test]
async fn every_sample_is_delivered_by_the_shipped_config_without_a_dead_letter() {
    let app = spawn_app().await;
    let now = 1_789_927_300;
    // All received before any is delivered: a dispute waits for the payment that
    // names its order, which a later sample brings.
    let kinds: Vec<&str> = herald::samples::stripe_types().collect();
    for (n, kind) in kinds.iter().enumerate() {
        let event =
            herald::samples::sample(kind, now, &format!("evt_sample_{n}")).expect("a sample");
        let body = serde_json::to_vec(&event).expect("json");
        assert_eq!(app.post_webhook(&body).await.status(), 200, "{kind}");
    }
    for (n, kind) in kinds.iter().enumerate() {
        let jobs = app.settle(&format!("evt_sample_{n}")).await;
        for job in &jobs {
            assert_ne!(job.status, "dead", "{kind}: {job:?}");
            assert_ne!(job.status, "held", "{kind}: {job:?}");
        }
    }
}

/// The shipped `order-status` rule listed `checkout.session.created`, a type Stripe never
/// sends: every type a shipped rule names must be one `herald trigger` can send.
#[test]
fn every_type_the_shipped_rules_name_has_a_sample() {
    let text = std::fs::read_to_string(crate::helpers::repo().join("config.toml")).expect("config");
    let table: toml::Table = toml::from_str(&text).expect("toml");
    let known: Vec<&str> = herald::samples::types().collect();
    let mut missing = Vec::new();
    for rule in table["rules"].as_array().expect("rules") {
        for kind in rule["on"].as_array().expect("on") {
            let kind = kind.as_str().expect("a type");
            if !kind.contains('*') && !known.contains(&kind) {
                missing.push(format!("{}: {kind}", rule["name"]));
            }
        }
    }
    assert_eq!(missing, Vec::<String>::new());
}
