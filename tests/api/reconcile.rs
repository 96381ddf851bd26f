//! `herald reconcile` (issue 32) against a fake of Stripe's API on loopback: the
//! events herald missed are stored once and routed, the ones it has are skipped, a
//! second run adds nothing, a 429 is waited out, pages are followed.

use herald_testkit::stripe_api::FakeStripe;
use serde_json::Value;

use crate::helpers::{run_cli, sample, shipped_config_in, spawn_app_with, TestApp};

/// Five events of the last hour, newest last: a payment's life and a refund.
fn recent_events() -> Vec<Value> {
    let now = chrono::Utc::now().timestamp();
    [
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.completed",
        "charge.refunded",
    ]
    .iter()
    .enumerate()
    .map(|(n, name)| {
        let mut event = sample(name);
        event["id"] = format!("evt_reconcile_{n}").into();
        event["created"] = Value::from(now - 600 + i64::try_from(n).expect("small") * 60);
        event
    })
    .collect()
}

/// The shipped config, its Stripe API at `fake`.
async fn app_against(fake: &FakeStripe) -> TestApp {
    app_against_with(fake, |_| {}).await
}

/// The shipped config, its Stripe API at `fake`, `[sources.stripe]` then edited.
async fn app_against_with(fake: &FakeStripe, edit: impl FnOnce(&mut toml::Table)) -> TestApp {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut table: toml::Table = toml::from_str(&shipped_config_in(dir.path())).expect("toml");
    let stripe = table["sources"]["stripe"].as_table_mut().expect("stripe");
    stripe.insert("api_key".into(), "rk_test_reconcile".into());
    stripe.insert("api_base".into(), fake.url().into());
    stripe.insert("api_requests_per_second".into(), 50.into());
    edit(stripe);
    let text = toml::to_string(&table).expect("toml");
    crate::helpers::spawn_app_in(dir, &text).await
}

async fn reconcile(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let config = app.config_path();
    let args: Vec<String> = ["reconcile"]
        .iter()
        .chain(args)
        .map(|a| (*a).to_owned())
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(&config, &args)
    })
    .await
    .expect("cli ran")
}

#[tokio::test]
async fn missed_events_are_stored_once_and_routed_and_known_ones_skipped() {
    let events = recent_events();
    let fake = FakeStripe::start(events.clone()).await;
    fake.page_size(2);
    fake.throttle(1);
    let app = app_against(&fake).await;
    // Two came in as webhooks before herald went down.
    for event in &events[..2] {
        let body = serde_json::to_vec(event).expect("json");
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }

    let (ok, out, err) = reconcile(&app, &["--since", "1h", "--dry-run"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("5 events listed: 2 stored already, 3 would be stored"),
        "{out}"
    );
    let (ok, out, err) = reconcile(&app, &["--since", "1h"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("5 events listed: 2 stored already, 3 stored with"),
        "{out}"
    );
    for event in &events[2..] {
        let id = event["id"].as_str().expect("id");
        let jobs = app.store.jobs_for_event("stripe", id).await.expect("jobs");
        assert!(!jobs.is_empty(), "{id} was routed by the shipped rules");
    }
    let (ok, out, err) = reconcile(&app, &["--since", "1h", "--json"]).await;
    assert!(ok, "{out}\n{err}");
    let again: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (again["known"].as_u64(), again["added"].as_u64()),
        (Some(5), Some(0))
    );

    let seen = fake.seen();
    assert_eq!(seen[0].status, 429, "the first answer was a 429: {seen:#?}");
    assert!(
        seen[1..].iter().all(|request| request.status == 200),
        "{seen:#?}"
    );
    // Three pages of two in each of the three runs, and the 429.
    assert_eq!(seen.len(), 10, "{seen:#?}");
    let first = &seen[1];
    assert_eq!(
        first.authorization.as_deref(),
        Some("Bearer rk_test_reconcile")
    );
    assert_eq!(
        first.stripe_version.as_deref(),
        Some(herald::stripe_api::STRIPE_VERSION)
    );
    let has = |key: &str, value: &str| first.query.iter().any(|(k, v)| k == key && v == value);
    assert!(has("delivery_success", "false"), "{first:?}");
    assert!(
        first.query.iter().any(|(k, _)| k == "created[gte]"),
        "{first:?}"
    );
    assert!(
        seen[2].query.iter().any(|(k, _)| k == "starting_after"),
        "{:?}",
        seen[2]
    );
}

/// Waits (at most 30 s) until `done` holds.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited 30 s for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn serve_reconciles_on_its_schedule_and_resumes_from_its_cursor() {
    let events = recent_events();
    let fake = FakeStripe::start(events.clone()).await;
    let app = app_against_with(&fake, |stripe| {
        stripe.insert("reconcile_every".into(), "1s".into());
    })
    .await;
    let ids: Vec<String> = events
        .iter()
        .map(|event| event["id"].as_str().expect("id").to_owned())
        .collect();
    until("every missed event stored", async || {
        let stored = app.store.stored_event_ids("stripe", &ids).await;
        stored.expect("read").len() == ids.len()
    })
    .await;
    let refund = app
        .store
        .jobs_for_event("stripe", &ids[4])
        .await
        .expect("jobs");
    assert!(!refund.is_empty(), "and routed by the shipped rules");
    // The run says so with an event of herald's own, once: later runs find nothing new.
    let found = herald::store::EventFilter {
        kind: Some("herald.reconcile_found".to_owned()),
        order_id: None,
        status: None,
        since_ms: None,
        until_ms: None,
        after: None,
        limit: 10,
    };
    until("herald.reconcile_found", async || {
        !app.store.events(&found).await.expect("events").is_empty()
    })
    .await;
    let since = |request: &herald_testkit::stripe_api::SeenRequest| {
        request
            .query
            .iter()
            .find(|(key, _)| key == "created[gte]")
            .and_then(|(_, value)| value.parse::<i64>().ok())
    };
    let first = since(&fake.seen()[0]).expect("created[gte]");
    let now = chrono::Utc::now().timestamp();
    assert!(
        now - first >= 3 * 86_400 - 60,
        "the first run looks back three days"
    );
    // The next run lists from where the first got to (its start, less the overlap).
    until("a second run", async || fake.seen().len() >= 2).await;
    let schedule = herald::reconcile::every::SCHEDULE;
    let stored = app
        .store
        .schedule(schedule)
        .await
        .expect("read")
        .expect("row");
    let cursor: i64 = stored.cursor.expect("cursor").parse().expect("seconds");
    // Runs go on meanwhile: the stored cursor is the second run's or a later one's.
    let second = since(&fake.seen()[1]).expect("created[gte]");
    assert!((now - second - 600).abs() < 60, "{now} {second}");
    assert!(cursor >= second, "{cursor} {second}");
    assert!(fake.seen().iter().all(|request| request.status == 200));
    let raised = app.store.events(&found).await.expect("events");
    assert_eq!(raised.len(), 1, "one run found events: {raised:?}");
    let detail = app.store.event_detail("herald", &raised[0].event_id).await;
    let detail = detail.expect("read").expect("stored");
    assert_eq!(detail.event.raw.value()["data"]["object"]["added"], 5);
}

#[tokio::test]
async fn reconcile_every_without_an_api_key_is_refused_with_its_line() {
    let mut table: toml::Table = toml::from_str(&crate::helpers::base_config()).expect("toml");
    table["sources"]["stripe"]
        .as_table_mut()
        .expect("stripe")
        .insert("reconcile_every".into(), "15m".into());
    let text = toml::to_string(&table).expect("toml");
    let dir = tempfile::TempDir::new().expect("dir");
    let path = dir.path().join("config.toml");
    let err = herald::Config::from_toml(&text, &path, &crate::helpers::test_env())
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("sources.stripe.reconcile_every"), "{err}");
    assert!(err.contains("set api_key"), "{err}");
}

#[tokio::test]
async fn server_errors_and_slow_answers_are_tried_again() {
    use herald::stripe_api::{ApiError, Budget, EventsQuery, StripeApi};
    use std::time::Duration;

    let fake = FakeStripe::start(recent_events()).await;
    let base = reqwest::Url::parse(&fake.url()).expect("url");
    let api = StripeApi::new(base, "rk_test_x".to_owned().into(), Budget::per_second(100))
        .expect("client")
        .with_timeout(Duration::from_millis(300));
    let everything = EventsQuery {
        since: 0,
        all: true,
    };
    fake.fail(2);
    let page = api.events(&everything, None).await.expect("the third try");
    assert_eq!(page.events.len(), 5);
    let statuses: Vec<u16> = fake.seen().iter().map(|seen| seen.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    // An answer slower than the timeout is given up on and asked again.
    fake.slow(1, Duration::from_secs(30));
    let page = api.events(&everything, None).await.expect("the second try");
    assert_eq!(page.events.len(), 5);
    assert_eq!(fake.seen().len(), 5, "{:#?}", fake.seen());
    // A refusal is not retried, and says what Stripe said.
    let missing = api.get("/v1/nothing/here", &[]).await;
    let Err(ApiError::Refused { status, message }) = missing else {
        panic!("{missing:?}");
    };
    assert_eq!(
        (status, message.as_str()),
        (404, "Unrecognized request URL")
    );
    assert_eq!(fake.seen().len(), 6);
}

#[tokio::test]
async fn without_an_api_key_reconcile_says_what_to_set() {
    let app = spawn_app_with(&crate::helpers::base_config()).await;
    let (ok, _, err) = reconcile(&app, &["--since", "1h"]).await;
    assert!(!ok);
    assert!(err.contains("api_key = \"${STRIPE_SECRET_KEY}\""), "{err}");
    let (ok, _, err) = reconcile(&app, &["--since", "6w"]).await;
    assert!(!ok && err.contains("not a span of time"), "{err}");
}

/// An endpoint object as `GET /v1/webhook_endpoints` lists it.
fn endpoint(events: &[&str], version: &str) -> Value {
    serde_json::json!({
        "id": "we_1", "object": "webhook_endpoint", "status": "enabled",
        "url": "https://shop.example.com/webhooks/stripe",
        "enabled_events": events, "api_version": version,
    })
}

#[tokio::test]
async fn stripe_check_names_a_type_the_rules_use_that_no_endpoint_sends() {
    let fake = FakeStripe::start(Vec::new()).await;
    let app = app_against(&fake).await;
    // The shipped rules' types, but the dispute's; and a payout no rule uses.
    let sent = [
        "payment_intent.created",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.succeeded",
        "charge.failed",
        "charge.refunded",
        "charge.dispute.closed",
        "checkout.session.completed",
        "checkout.session.expired",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "radar.early_fraud_warning.created",
        "review.opened",
        "review.closed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        "entitlements.active_entitlement_summary.updated",
        "payout.paid",
        // The follow-ups': what starts them, and what stops them.
        "payment_intent.processing",
        "charge.dispute.updated",
        "invoice.voided",
    ];
    fake.set_endpoints(vec![endpoint(&sent, "2025-01-27.acacia")]);
    let cli = |args: &'static [&'static str]| {
        let config = app.config_path();
        async move {
            tokio::task::spawn_blocking(move || run_cli(&config, args))
                .await
                .expect("cli ran")
        }
    };
    let (ok, out, err) = cli(&["stripe", "check"]).await;
    assert!(!ok, "exit 1: {out}");
    assert!(
        out.contains(
            "error: a rule waits for charge.dispute.created, which no enabled endpoint sends"
        ),
        "{out}"
    );
    assert!(
        out.contains("warning: payout.paid is sent but no rule uses it"),
        "{out}"
    );
    assert!(out.contains("API version 2025-01-27.acacia"), "{out}");
    // A follow-up's `unless` counts too: never sent, the reminder would always go.
    assert!(
        out.contains("error: a rule waits for invoice.marked_uncollectible"),
        "{out}"
    );
    assert!(
        err.contains("2 of the rules' types are sent by no endpoint"),
        "{err}"
    );

    fake.set_endpoints(vec![endpoint(&["*"], herald::stripe_api::STRIPE_VERSION)]);
    let (ok, out, err) = cli(&["stripe", "check"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("every type the rules use is sent"), "{out}");
    let seen = fake.seen();
    assert!(
        seen.iter()
            .all(|request| request.path == "/v1/webhook_endpoints"),
        "{seen:?}"
    );
}

/// A subscription event naming a customer herald has never seen: the customer is
/// asked of Stripe's API, the welcome goes to the address it returns, and the
/// directory keeps it, so their next event is not asked again.
#[tokio::test]
async fn an_unknown_customer_is_asked_of_stripe_and_remembered() {
    let fake = FakeStripe::start(Vec::new()).await;
    fake.set_customers(vec![serde_json::json!({
        "id": "cus_NewToHerald", "object": "customer", "email": "ada@example.com",
        "name": "Ada Lovelace", "phone": null, "preferred_locales": ["en-GB"],
    })]);
    let app = app_against(&fake).await;
    let asked = || {
        fake.seen()
            .iter()
            .filter(|request| request.path == "/v1/customers/cus_NewToHerald")
            .count()
    };
    let mut after_each = Vec::new();
    for (n, name) in [
        "customer.subscription.created",
        "customer.subscription.updated",
    ]
    .iter()
    .enumerate()
    {
        let mut event = sample(name);
        event["id"] = format!("evt_new_customer_{n}").into();
        event["data"]["object"]["customer"] = "cus_NewToHerald".into();
        let body = serde_json::to_vec(&event).expect("json");
        assert_eq!(app.post_webhook(&body).await.status(), 200);
        app.dispatch_all_pending().await;
        after_each.push(asked());
    }
    let welcome = app
        .outbox()
        .into_iter()
        .find(|mail| mail.contains("welcome to"))
        .expect("a welcome");
    assert!(welcome.contains("ada@example.com"), "{welcome}");
    // The first event's jobs (the ledger's and the welcome's, delivered side by side)
    // asked; the next event of the same customer found the directory filled.
    assert!(after_each[0] >= 1, "{after_each:?}");
    assert_eq!(
        after_each[1], after_each[0],
        "not asked again: {after_each:?}"
    );
    let (ok, out, err) =
        crate::helpers::cli(&app.config_path(), &["customer", "cus_NewToHerald"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("ada@example.com") && out.contains("en-GB"),
        "{out}"
    );
}
