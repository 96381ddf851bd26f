//! herald's own alerts (issue 33): a burst of dead letters on one action gives one
//! `herald.dead_letter`, carrying the count, not one per job; emptied, one
//! `herald.dead_letter_cleared`; an alert's own failure raises nothing. On SQLite and
//! PostgreSQL, the scan run with an injected time.

use herald::store::{JobFilter, JobStatus};
use herald_testkit::HttpSink;
use serde_json::Value;

use crate::helpers::{base_config, normalized, sample, webhook_instance, BackendShop};

fn config(broken: String, ops: String) -> impl Fn(&std::path::Path, &str) -> String {
    move |_dir, url| {
        [
            base_config(),
            format!("[database]\nurl = \"{url}\"\n"),
            webhook_instance("broken", &broken),
            webhook_instance("ops", &ops),
            crate::helpers::rule(
                "notify",
                r#"["payment_intent.succeeded"]"#,
                r#"plugin = "broken""#,
            ),
            crate::helpers::rule("ops-alerts", r#"["herald.*"]"#, r#"plugin = "ops""#),
        ]
        .concat()
    }
}

impl BackendShop {
    async fn pay(&self, n: usize) {
        for i in 0..n {
            let mut event = sample("payment_intent.succeeded");
            event["id"] = format!("evt_pay_{}_{i}", self.clock.now_ms()).into();
            self.receive_event(&normalized(&event)).await;
        }
        self.deliver().await;
    }

    async fn scan(&self) -> usize {
        let rules = &self.shop.config.reloadable.rules;
        herald::alerts::scan(&self.shop.store, rules, self.clock.now_ms())
            .await
            .expect("scan")
    }
}

/// The alerts `sink` received, as `(type, state, count)`.
fn alerts(sink: &HttpSink, from: usize) -> Vec<(String, String, i64)> {
    sink.received()[from..]
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("json");
            let object = &body["data"];
            (
                body["type"].as_str().unwrap_or_default().to_owned(),
                object["state"].as_str().unwrap_or_default().to_owned(),
                object["count"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_burst_of_dead_letters_gives_one_alert_then_one_when_it_clears() {
    let (broken, ops) = (HttpSink::start().await, HttpSink::start().await);
    broken.set_status(400);
    let config = config(broken.url(), ops.url());
    for (backend, shop) in BackendShop::each(&config).await {
        let from = ops.received().len();
        shop.pay(3).await;
        assert_eq!(shop.scan().await, 1, "{backend}");
        shop.deliver().await;
        let raised = alerts(&ops, from);
        assert_eq!(
            raised,
            [("herald.dead_letter".into(), "open".into(), 3)],
            "{backend}"
        );

        // Two more die: the problem is still the one alert.
        shop.clock.advance(std::time::Duration::from_secs(30));
        shop.pay(2).await;
        assert_eq!(shop.scan().await, 0, "{backend}");
        assert_eq!(
            shop.scan().await,
            0,
            "{backend}: a scan repeated raises nothing"
        );

        // The dead letters purged: one alert that it cleared, with the last count.
        let filter = JobFilter {
            rule: Some("notify".into()),
            ..JobFilter::default()
        };
        let dead = shop
            .shop
            .store
            .dead_letters(&filter, 100)
            .await
            .expect("dead");
        assert_eq!(dead.len(), 5, "{backend}");
        let ids: Vec<i64> = dead.iter().map(|job| job.id).collect();
        shop.shop.store.purge_dead(&ids).await.expect("purge");
        assert_eq!(shop.scan().await, 1, "{backend}");
        shop.deliver().await;
        let raised = alerts(&ops, from);
        assert_eq!(raised.len(), 2, "{backend}: {raised:?}");
        assert_eq!(
            raised[1],
            ("herald.dead_letter_cleared".into(), "cleared".into(), 5)
        );
    }
}

#[tokio::test]
async fn an_alert_that_fails_raises_no_alert() {
    let (broken, ops) = (HttpSink::start().await, HttpSink::start().await);
    broken.set_status(400);
    ops.set_status(400);
    let config = config(broken.url(), ops.url());
    for (backend, shop) in BackendShop::each(&config).await {
        shop.pay(1).await;
        assert_eq!(shop.scan().await, 1, "{backend}");
        shop.deliver().await;
        let filter = JobFilter {
            rule: Some("ops-alerts".into()),
            ..JobFilter::default()
        };
        let dead = shop
            .shop
            .store
            .dead_letters(&filter, 10)
            .await
            .expect("dead");
        assert_eq!(dead.len(), 1, "{backend}: the alert's own job died");
        assert_eq!(dead[0].status, JobStatus::Dead);
        assert_eq!(shop.scan().await, 0, "{backend}: and raised nothing");
    }
}

/// `(type, state, count or plugin)` of the alerts `sink` received from `from` on.
fn signal_alerts(sink: &HttpSink, from: usize) -> Vec<(String, String, String)> {
    sink.received()[from..]
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("json");
            let object = &body["data"];
            let what = object["plugin"]
                .as_str()
                .map_or_else(|| object["count"].to_string(), str::to_owned);
            (
                body["type"].as_str().unwrap_or_default().to_owned(),
                object["state"].as_str().unwrap_or_default().to_owned(),
                what,
            )
        })
        .collect()
}

#[tokio::test]
async fn signature_failures_and_breakers_seen_by_two_replicas_give_one_alert_each() {
    use herald::alerts::signals::{report, scan_signals};
    let (broken, ops) = (HttpSink::start().await, HttpSink::start().await);
    let config = config(broken.url(), ops.url());
    for (backend, shop) in BackendShop::each(&config).await {
        let from = ops.received().len();
        let text = config(shop.dir.path(), &shop.shop.config.restart.database.display);
        let other = crate::helpers::dispatcher_in(shop.dir.path(), &text, &shop.clock).await;
        let rules = &shop.shop.config.reloadable.rules;
        let replicas = [&shop.shop.store, &other.store];
        let seen = [
            herald::metrics::Metrics::default(),
            herald::metrics::Metrics::default(),
        ];
        let step = |minutes: u64| {
            shop.clock
                .advance(std::time::Duration::from_secs(60 * minutes));
        };
        let look = || async {
            let now = shop.clock.now_ms();
            for (store, metrics) in replicas.iter().zip(&seen) {
                report(store, &metrics.signals, now).await.expect("report");
            }
            scan_signals(&shop.shop.store, rules, now)
                .await
                .expect("scan")
        };

        // One destination failing on both replicas, and six refusals on the first.
        seen[0].breaker("broken", true);
        seen[1].breaker("broken", true);
        for _ in 0..6 {
            seen[0].signals.signature_failed("stripe");
        }
        assert_eq!(
            look().await,
            1,
            "{backend}: the breaker, once; six are no burst"
        );
        // A minute later six more on the second: twelve within five minutes, one burst.
        step(1);
        for _ in 0..6 {
            seen[1].signals.signature_failed("stripe");
        }
        assert_eq!(look().await, 1, "{backend}");
        step(1);
        seen[0].signals.signature_failed("stripe");
        assert_eq!(look().await, 0, "{backend}: still the same two problems");

        // The breaker closes on one replica, then on the other; the refusals stop.
        seen[0].breaker("broken", false);
        step(3);
        assert_eq!(
            look().await,
            0,
            "{backend}: still open on the other replica"
        );
        seen[1].breaker("broken", false);
        step(3);
        assert_eq!(
            look().await,
            2,
            "{backend}: the breaker closed and the burst is over"
        );
        shop.deliver().await;
        assert_eq!(
            signal_alerts(&ops, from),
            [
                (
                    "herald.breaker_opened".into(),
                    "open".into(),
                    "broken".into()
                ),
                (
                    "herald.signature_failures".into(),
                    "open".into(),
                    "12".into()
                ),
                (
                    "herald.signature_failures_cleared".into(),
                    "cleared".into(),
                    "13".into()
                ),
                (
                    "herald.breaker_closed".into(),
                    "cleared".into(),
                    "broken".into()
                ),
            ],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_webhook_refused_for_its_signature_is_counted_for_the_alerts() {
    let app = crate::helpers::spawn_app().await;
    let body = crate::helpers::fixture_with_id("payment_intent.succeeded", "evt_forged");
    let forged = format!(
        "t={},v1={}",
        chrono::Utc::now().timestamp(),
        "00".repeat(32)
    );
    assert_eq!(app.post_raw(body.clone(), Some(forged)).await.status(), 401);
    assert_eq!(app.post_raw(body, None).await.status(), 400);
    assert_eq!(
        app.metrics.signals.take_signature_failures(),
        [("stripe".to_owned(), 1)],
        "the forged signature counts; a request without one is malformed, not a probe of the secret"
    );
}

#[tokio::test]
async fn a_digest_that_fails_for_good_raises_an_alert_as_any_delivery_does() {
    let (broken, ops) = (HttpSink::start().await, HttpSink::start().await);
    broken.set_status(400);
    let (broken_url, ops_url) = (broken.url(), ops.url());
    let config = move |_dir: &std::path::Path, url: &str| {
        [
            base_config(),
            format!("[database]\nurl = \"{url}\"\n"),
            webhook_instance("broken", &broken_url),
            webhook_instance("ops", &ops_url),
            crate::helpers::rule("books", r#"["herald.digest"]"#, r#"plugin = "broken""#),
            crate::helpers::rule(
                "ops-alerts",
                r#"["herald.dead_letter"]"#,
                r#"plugin = "ops""#,
            ),
        ]
        .concat()
    };
    for (backend, shop) in BackendShop::each(&config).await {
        let from = ops.received().len();
        let rules = &shop.shop.config.reloadable.rules;
        let object = serde_json::json!({"object": "digest", "digest": "nightly"});
        let id = format!("herald.digest:nightly:{backend}");
        herald::alerts::store_own_event(
            &shop.shop.store,
            rules,
            id,
            "herald.digest",
            object,
            shop.clock.now_ms(),
        )
        .await
        .expect("stored");
        shop.deliver().await;
        assert_eq!(
            shop.scan().await,
            1,
            "{backend}: the digest's dead letter is a problem"
        );
        shop.deliver().await;
        let raised = alerts(&ops, from);
        assert_eq!(
            raised,
            [("herald.dead_letter".into(), "open".into(), 1)],
            "{backend}"
        );
    }
}
