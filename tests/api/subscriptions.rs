//! The subscriptions plugin (issue 31): a subscription's life folded the same in any
//! arrival order on both backends and across two replicas, and the storefront told
//! once per change of access or plan, never re-granted by a stale event.

use std::time::Duration;

use herald_plugin_subscriptions::ledger::SubscriptionLedger;
use herald_plugin_subscriptions::{fold, read, Access, Reading, SubscriptionFact};
use herald_testkit::http_sink::HttpSink;
use serde_json::Value;

use crate::helpers::{base_config, normalized, rule, sample, spawn_app_with};

/// The callback's signing secret (base64 of `secret-key-for-tests`).
const SECRET: &str = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=";

/// A subscription's life in samples: created, renewal failed, paid, paused, resumed,
/// set to cancel at period end, deleted.
const LIFE: [&str; 7] = [
    "customer.subscription.created",
    "invoice.payment_failed",
    "invoice.paid",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.updated",
    "customer.subscription.deleted",
];

/// Sample `name`, about subscription `id` instead of the samples' own.
fn about(name: &str, id: &str) -> Value {
    let mut event = sample(name);
    event["id"] = format!("{}_{id}", event["id"].as_str().expect("id")).into();
    let object = &mut event["data"]["object"];
    if name.starts_with("invoice.") {
        object["parent"]["subscription_details"]["subscription"] = id.into();
    } else {
        object["id"] = id.into();
    }
    event
}

fn fact_of(event: &Value) -> (String, SubscriptionFact) {
    let event = normalized(event);
    let Reading::Subscription(id, observation) = read(&event) else {
        panic!("{} tells of no subscription", event.kind);
    };
    let fact = SubscriptionFact {
        event_id: event.id,
        event_type: event.kind,
        created: event.created,
        observation,
    };
    (id, fact)
}

#[tokio::test]
async fn a_life_folds_the_same_in_any_order_on_every_backend_across_two_replicas() {
    let orders: [[usize; 7]; 3] = [
        [0, 1, 2, 3, 4, 5, 6],
        [6, 5, 4, 3, 2, 1, 0],
        [3, 6, 0, 5, 1, 4, 2],
    ];
    for (backend, store, guard) in crate::helpers::backends().await {
        let replica = herald::store::Store::connect(guard.settings())
            .await
            .expect("second replica");
        let access = Access::default();
        let folding = move |id: &str, facts: &[SubscriptionFact]| fold(id, facts, &access);
        let folding = std::sync::Arc::new(folding);
        let mut tasks = tokio::task::JoinSet::new();
        for (n, order) in orders.iter().enumerate() {
            let id = format!("sub_order{n}");
            for (step, index) in order.iter().enumerate() {
                let (id, fact) = fact_of(&about(LIFE[*index], &id));
                // Every other event through the other replica, all at once.
                let ledger = if step % 2 == 0 {
                    store.clone()
                } else {
                    replica.clone()
                };
                let folding = folding.clone();
                tasks.spawn(async move { ledger.apply(&id, &fact, &*folding).await });
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("task").expect("applied");
        }
        for n in 0..orders.len() {
            let id = format!("sub_order{n}");
            let all: Vec<SubscriptionFact> = LIFE
                .iter()
                .map(|name| fact_of(&about(name, &id)).1)
                .collect();
            let expected = fold(&id, &all, &Access::default()).expect("a state");
            assert!(expected.deleted && !expected.access, "{expected:?}");
            let (state, facts) = store.get(&id).await.expect("get").expect("stored");
            assert_eq!(facts.len(), LIFE.len(), "{backend} {id}");
            assert_eq!(state, expected, "{backend} {id}");
        }
    }
}

#[tokio::test]
async fn the_storefront_hears_each_change_once_and_a_stale_event_never_regrants() {
    let sink = HttpSink::start().await;
    let config = [
        base_config(),
        format!(
            "[plugins.subscriptions.members]\ncallback = {{ url = \"{}/subscriptions\", \
             secret = \"{SECRET}\" }}\n",
            sink.url()
        ),
        rule(
            "members",
            r#"["customer.subscription.*", "invoice.*", "entitlements.*"]"#,
            r#"plugin = "members""#,
        ),
    ]
    .concat();
    let app = spawn_app_with(&config).await;
    let send = |name: &'static str| {
        let body = serde_json::to_vec(&sample(name)).expect("json");
        let app = &app;
        async move {
            assert_eq!(app.post_webhook(&body).await.status(), 200, "{name}");
            app.dispatch_all_pending().await;
        }
    };
    send("entitlements.active_entitlement_summary.updated").await;
    send("customer.subscription.created").await;
    send("invoice.paid").await; // the latest invoice: no change the storefront acts on
    send("customer.subscription.updated").await; // set to cancel at period end
    send("customer.subscription.deleted").await;
    send("customer.subscription.resumed").await; // stale: created before the deletion
    let calls = sink.wait_for(3, Duration::from_secs(10)).await;
    let bodies: Vec<Value> = sink
        .received()
        .iter()
        .map(|call| serde_json::from_slice(&call.body).expect("json"))
        .collect();
    assert_eq!(bodies.len(), 3, "{bodies:#?}");
    assert_eq!(calls[0].path, "/subscriptions");
    let seen: Vec<(bool, &str, bool)> = bodies
        .iter()
        .map(|body| {
            (
                body["access"].as_bool().expect("access"),
                body["status"].as_str().expect("status"),
                body["cancel_at_period_end"].as_bool().expect("flag"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (true, "active", false),
            (true, "active", true),
            (false, "canceled", false)
        ]
    );
    assert_eq!(
        bodies[0]["entitlements"],
        serde_json::json!(["coffee-club-monthly-bag"])
    );
    assert_eq!(bodies[0]["customer"], "cus_WK59PFkl0JfI2y");
    assert!(calls
        .iter()
        .all(|call| call.header("idempotency-key").is_some()));
    let state = app
        .store
        .get("sub_1PpTbmHrLd9TstRsHdRXfr8n")
        .await
        .expect("get")
        .expect("known");
    assert!(!state.0.access && state.0.deleted, "{:?}", state.0);
    assert_eq!(
        state.1.len(),
        5,
        "every subscription fact kept: {:?}",
        state.1
    );
}

#[tokio::test]
async fn herald_subscriptions_and_the_api_list_and_show_them() {
    let config = [
        base_config(),
        crate::helpers::ADMIN_TABLE.to_owned(),
        "[plugins.subscriptions.members]\n".to_owned(),
        rule(
            "members",
            r#"["customer.subscription.*"]"#,
            r#"plugin = "members""#,
        ),
    ]
    .concat();
    let app = spawn_app_with(&config).await;
    for name in [
        "customer.subscription.created",
        "customer.subscription.updated",
    ] {
        let body = serde_json::to_vec(&sample(name)).expect("json");
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }
    app.dispatch_all_pending().await;
    let config = app.config_path();
    let cli = |args: &'static [&'static str]| crate::helpers::cli(&config, args);
    let (ok, out, err) = cli(&["subscriptions", "--status", "active"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("sub_1PpTbmHrLd9TstRsHdRXfr8n"), "{out}");
    assert!(out.contains("Coffee club monthly"), "{out}");
    let (ok, out, _) = cli(&["subscriptions", "--status", "canceled"]).await;
    assert!(ok && out.contains("0 subscriptions"), "{out}");
    let (ok, out, err) = cli(&["subscriptions", "show", "sub_1PpTbmHrLd9TstRsHdRXfr8n"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("access yes, cancels at period end"), "{out}");
    assert!(out.contains("customer.subscription.updated"), "{out}");
    let (ok, _, err) = cli(&["subscriptions", "--status", "overdue"]).await;
    assert!(
        !ok && err.contains("unknown subscription status `overdue`"),
        "{err}"
    );

    let listed = app
        .admin_json("/api/subscriptions?customer=cus_WK59PFkl0JfI2y")
        .await;
    let listed = listed["subscriptions"].as_array().expect("list").clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["access"], true);
    assert_eq!(listed[0]["status"], "active");
    let one = app
        .admin_json("/api/subscriptions/sub_1PpTbmHrLd9TstRsHdRXfr8n")
        .await;
    assert_eq!(one["facts"].as_array().map(Vec::len), Some(2), "{one}");
}

/// Issue 31's acceptance: with the shipped config, the `subscription` story (the
/// customer, then a subscription whose events name only `cus_…`, a renewal failed
/// twice then paid, a cancellation) mails the subscriber once per step, with the
/// invoice's links; a second event for the same attempt mails nothing more.
#[tokio::test]
async fn a_subscription_life_mails_the_subscriber_once_per_step() {
    let app = crate::helpers::spawn_app().await;
    let url = app.url("/webhooks/stripe");
    let trigger = |args: Vec<String>| {
        let config = app.config_path();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                crate::helpers::run_cli(&config, &args)
            })
            .await
            .expect("cli ran")
        }
    };
    let story = ["trigger", "--story", "subscription", "--url", &url];
    let (ok, out, err) = trigger(story.map(str::to_owned).to_vec()).await;
    assert!(ok, "{out}\n{err}");
    app.dispatch_all_pending().await;
    // Stripe sends the second attempt's failure again, under a new event id.
    let again = [
        "trigger",
        "invoice.payment_failed",
        "--set",
        "data.object.attempt_count=2",
        "--url",
        &url,
    ];
    let (ok, out, err) = trigger(again.map(str::to_owned).to_vec()).await;
    assert!(ok, "{out}\n{err}");
    app.dispatch_all_pending().await;

    let subjects: Vec<String> = app
        .outbox()
        .iter()
        .filter(|mail| mail.contains("To: jenny.rosen@example.com"))
        .filter_map(|mail| {
            mail.lines()
                .find(|line| line.starts_with("Subject: "))
                .map(str::to_owned)
        })
        .collect();
    let count = |text: &str| {
        subjects
            .iter()
            .filter(|subject| subject.contains(text))
            .count()
    };
    assert_eq!(count("welcome to Coffee club monthly"), 1, "{subjects:#?}");
    assert_eq!(
        count("didn't go through"),
        2,
        "one per attempt: {subjects:#?}"
    );
    assert_eq!(count("you're all set"), 1, "{subjects:#?}");
    assert_eq!(count("your subscription has ended"), 1, "{subjects:#?}");
    assert_eq!(subjects.len(), 5, "{subjects:#?}");
    let failures: Vec<String> = app
        .outbox()
        .into_iter()
        .filter(|mail| mail.contains("didn't go through"))
        .collect();
    assert!(
        failures
            .iter()
            .all(|mail| mail.contains("https://invoice.stripe.com/i/")),
        "the hosted invoice link: {failures:#?}"
    );
    assert!(
        failures.iter().any(|mail| mail.contains("(attempt 2)")),
        "{failures:#?}"
    );

    let (ok, out, err) = crate::helpers::cli(&app.config_path(), &["subscriptions"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("canceled") && out.contains(" no "), "{out}");
}
