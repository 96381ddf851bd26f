//! Digests (issue 33): each period sent exactly once, on SQLite and PostgreSQL, with an
//! injected clock: one a day across the spring clock change in the digest's zone, a
//! restart and a second replica in the middle, runs missed while down sent once on
//! return, and `herald digest run` beside the schedule.

use std::time::Duration;

use chrono::TimeZone;
use chrono_tz::Europe::Paris;
use herald_testkit::HttpSink;
use serde_json::Value;

use crate::helpers::{base_config, normalized, sample, webhook_instance, BackendShop};

const HOUR: Duration = Duration::from_secs(3600);

fn config(books: String) -> impl Fn(&std::path::Path, &str) -> String {
    move |_dir, url| {
        [
            base_config(),
            format!("[database]\nurl = \"{url}\"\n"),
            webhook_instance("books", &books),
            // 02:30 does not exist in Paris on the spring day: the run moves, once.
            "\n[[digests]]\nname = \"nightly\"\nschedule = \"30 2 * * *\"\n\
             timezone = \"Europe/Paris\"\nperiod = \"day\"\nplugin = \"books\"\n"
                .to_owned(),
        ]
        .concat()
    }
}

fn paris(m: u32, d: u32, h: u32) -> i64 {
    Paris
        .with_ymd_and_hms(2027, m, d, h, 0, 0)
        .earliest()
        .expect("exists")
        .timestamp_millis()
}

impl BackendShop {
    fn move_to(&self, at_ms: i64) {
        let by = u64::try_from(at_ms - self.clock.now_ms()).expect("forward");
        self.clock.advance(Duration::from_millis(by));
    }

    async fn tick(&self) -> usize {
        let rules = &self.shop.config.reloadable.rules;
        herald::digest::watch::tick(&self.shop.store, rules, self.clock.now_ms())
            .await
            .expect("tick")
    }
}

/// The digests `sink` received: each period's start and its payments in EUR.
fn periods(sink: &HttpSink, from: usize) -> Vec<(String, Value)> {
    sink.received()[from..]
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("json");
            let object = &body["data"];
            let start = object["period"]["start"].as_str().unwrap_or_default();
            (start.to_owned(), object["money"].clone())
        })
        .collect()
}

#[tokio::test]
async fn one_digest_a_day_across_the_clock_change_a_restart_and_two_replicas() {
    let sink = HttpSink::start().await;
    let config = config(sink.url());
    for (backend, shop) in BackendShop::each(&config).await {
        let before = sink.received().len();
        shop.move_to(paris(3, 26, 12));
        assert_eq!(
            shop.tick().await,
            0,
            "{backend}: a new digest starts from now"
        );
        // A payment on the 27th, in the period of the 28th's run.
        let mut payment = sample("payment_intent.succeeded");
        payment["id"] = "evt_digest_pay".into();
        payment["created"] = (paris(3, 27, 15) / 1000).into();
        shop.receive_event(&normalized(&payment)).await;

        let mut raised = 0;
        while shop.clock.now_ms() < paris(3, 28, 12) {
            shop.clock.advance(HOUR);
            raised += shop.tick().await;
        }
        // herald restarts on the day of the change, and a second replica starts
        // beside it; from now on both look every hour.
        let text = config(shop.dir.path(), &shop.shop.config.restart.database.display);
        let first = crate::helpers::dispatcher_in(shop.dir.path(), &text, &shop.clock).await;
        let second = crate::helpers::dispatcher_in(shop.dir.path(), &text, &shop.clock).await;
        let rules = &first.config.reloadable.rules;
        while shop.clock.now_ms() < paris(4, 1, 12) {
            shop.clock.advance(HOUR);
            let now = shop.clock.now_ms();
            let (a, b) = tokio::join!(
                herald::digest::watch::tick(&first.store, rules, now),
                herald::digest::watch::tick(&second.store, rules, now),
            );
            raised += a.expect("tick") + b.expect("tick");
        }
        assert_eq!(
            raised, 6,
            "{backend}: one run a day from the 27th to 1 April"
        );
        shop.deliver().await;
        let got = periods(&sink, before);
        let starts: Vec<&str> = got.iter().map(|(start, _)| start.as_str()).collect();
        assert_eq!(
            starts,
            [
                "2027-03-26T00:00:00+01:00",
                "2027-03-27T00:00:00+01:00",
                "2027-03-28T00:00:00+01:00",
                "2027-03-29T00:00:00+02:00",
                "2027-03-30T00:00:00+02:00",
                "2027-03-31T00:00:00+02:00",
            ],
            "{backend}"
        );
        assert_eq!(got[1].1[0]["payments"]["count"], 1, "{backend}: {got:?}");
        assert_eq!(got[0].1, Value::Array(Vec::new()), "{backend}");
    }
}

#[tokio::test]
async fn runs_missed_while_down_go_out_once_when_herald_is_back() {
    let sink = HttpSink::start().await;
    let config = config(sink.url());
    for (backend, shop) in BackendShop::each(&config).await {
        let before = sink.received().len();
        shop.move_to(paris(5, 3, 12));
        assert_eq!(shop.tick().await, 0, "{backend}");
        // Down from the 3rd at noon to the 6th at noon: three runs missed.
        shop.move_to(paris(5, 6, 12));
        assert_eq!(shop.tick().await, 3, "{backend}");
        assert_eq!(
            shop.tick().await,
            0,
            "{backend}: a second look sends nothing"
        );
        // What `herald digest list` reads: the latest scheduled run, never one on request.
        let rules = &shop.shop.config.reloadable.rules;
        let object = serde_json::json!({"object": "digest", "digest": "other"});
        let on_request = "herald.digest:nightly:run:1".to_owned();
        let (store, now) = (&shop.shop.store, shop.clock.now_ms());
        herald::alerts::store_own_event(store, rules, on_request, "herald.digest", object, now)
            .await
            .expect("stored");
        let last = store.last_digest("nightly").await.expect("read");
        let last_id = last.map(|(id, _)| id).unwrap_or_default();
        assert_eq!(
            last_id, "herald.digest:nightly:2027-05-05T00:00:00+02:00",
            "{backend}"
        );
        shop.deliver().await;
        let starts: Vec<String> = periods(&sink, before)
            .into_iter()
            .map(|(start, _)| start)
            .collect();
        assert_eq!(
            starts,
            [
                "2027-05-03T00:00:00+02:00",
                "2027-05-04T00:00:00+02:00",
                "2027-05-05T00:00:00+02:00",
            ],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn the_shipped_daily_summary_goes_to_the_accountant_on_request_and_is_listed() {
    let dir = tempfile::TempDir::new().expect("dir");
    let text = crate::helpers::shipped_config_in(dir.path());
    let app = crate::helpers::spawn_app_in(dir, &text).await;
    let now = chrono::Utc::now();
    let mut paid = sample("payment_intent.succeeded");
    paid["id"] = "evt_digest_cli".into();
    paid["created"] = now.timestamp().into();
    let body = serde_json::to_vec(&paid).expect("json");
    assert_eq!(app.post_webhook(&body).await.status(), 200);

    let config = app.config_path();
    let yesterday = (now - chrono::Days::new(1)).format("%Y-%m-%d").to_string();
    let today = now.format("%Y-%m-%d").to_string();
    let cli = move |args: Vec<String>| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::helpers::run_cli(&config, &args)
        })
    };
    let args = [
        "digest",
        "run",
        "daily-summary",
        "--from",
        &yesterday,
        "--to",
        &today,
    ];
    let (ok, out, err) = cli(args.map(str::to_owned).to_vec()).await.expect("cli");
    assert!(ok, "{err}");
    let id = out
        .split_whitespace()
        .nth(1)
        .expect("the event id")
        .to_owned();
    assert!(id.starts_with("herald.digest:daily-summary:run:"), "{out}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        app.dispatch_all_pending().await;
        let jobs = app.store.jobs_for_event("herald", &id).await.expect("jobs");
        if !jobs.is_empty() && jobs.iter().all(|job| job.status == "delivered") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{jobs:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mails = app.outbox();
    let summary = mails
        .iter()
        .find(|mail| mail.contains("To: accounts@example.com"))
        .expect("the summary mail");
    assert!(summary.contains("USD net 49.98"), "{summary}");
    assert!(summary.contains("sent on request"), "{summary}");
    // The movements as a CSV attachment, as `herald report --format csv` writes them.
    assert!(
        summary.contains("Content-Type: multipart/mixed"),
        "{summary}"
    );
    let name = format!("daily-summary-{yesterday}-to-{today}.csv");
    assert!(summary.contains(&name), "{summary}");
    assert!(summary.contains("Content-Type: text/csv"), "{summary}");
    assert!(
        summary.contains("created,event_id,type,order_id,customer_email,currency,amount,fee,net"),
        "{summary}"
    );

    let (ok, out, err) = cli(vec!["digest".into(), "list".into()])
        .await
        .expect("cli");
    assert!(ok, "{err}");
    assert!(out.contains("daily-summary  0 7 * * * (UTC)"), "{out}");
    assert!(
        out.contains("never"),
        "{out}: a run on request is not the scheduled one"
    );
    let (ok, _, err) = cli(vec!["digest".into(), "run".into(), "weekly".into()])
        .await
        .expect("cli");
    assert!(!ok);
    assert!(
        err.contains("no digest named `weekly`; the config has: daily-summary"),
        "{err}"
    );
}

#[test]
fn a_digest_says_what_is_wrong_at_its_line() {
    let refused = |body: &str| {
        let text = format!(
            "{}\n[plugins.webhook.books]\nurl = \"http://127.0.0.1:9/\"\n\n[[digests]]\n\
             name = \"d\"\nplugin = \"books\"\n{body}",
            base_config()
        );
        let dir = tempfile::TempDir::new().expect("dir");
        herald::Config::from_toml(
            &text,
            &dir.path().join("c.toml"),
            &crate::helpers::test_env(),
        )
        .err()
        .map(|err| err.to_string())
        .unwrap_or_default()
    };
    assert_eq!(refused("schedule = \"0 7 * * *\"\n"), "");
    let err = refused("schedule = \"0 0 7 * * *\"\n");
    assert!(
        err.contains(":24: digests[0] (d).schedule: `0 0 7 * * *` is not a five-field cron"),
        "{err}"
    );
    let err = refused("schedule = \"0 0 30 2 *\"\n");
    assert!(err.contains("it never comes round"), "{err}");
    let err = refused("schedule = \"0 7 * * *\"\ntimezone = \"Paris\"\n");
    assert!(
        err.contains("digests[0] (d).timezone: `Paris` is not an IANA time zone"),
        "{err}"
    );
    let err = refused("schedule = \"0 7 * * *\"\nperiod = \"daily\"\n");
    assert!(err.contains("`daily` is not \"day\", \"week\""), "{err}");
    let err = refused("schedule = \"0 7 * * *\"\ntemplate = \"no_such_set\"\n");
    assert!(err.contains("digests[0] (d)"), "{err}");
    assert!(!err.contains("actions[0]"), "{err}");
    let err = refused("schedule = \"0 7 * * *\"\nattach_csv = true\n");
    assert!(
        err.contains("attach_csv = true needs an email instance"),
        "{err}"
    );
}
