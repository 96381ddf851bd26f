//! Delivery that loses nothing: retries, dead letters, replay, breakers, the admin API.

use crate::helpers::{
    base_config_with_dispatch, fixture_with_id, notify_sink, rule, spawn_app_with,
    webhook_instance, TestApp, ADMIN_TABLE, ADMIN_TOKEN, ON_PAID,
};
use herald::store::JobStatus;
use herald_testkit::HttpSink;
use serde_json::Value;

/// A config delivering every event to `sink` through the webhook plugin.
fn sink_config(sink: &HttpSink, dispatch: &str, rule: &str) -> String {
    format!(
        "{base}\n{ADMIN_TABLE}\n{notify}{rule}\n",
        base = base_config_with_dispatch(&format!("enabled = false\n{dispatch}")),
        notify = notify_sink(&sink.url(), r#"["*"]"#, r#", path = "/events""#),
    )
}

/// [`sink_config`] with the dispatcher running on its own, on these `[dispatch]` lines.
fn running_config(sink: &HttpSink, dispatch: &str) -> String {
    sink_config(sink, "", "").replace("enabled = false\n", &format!("{dispatch}\n"))
}

/// Short retry delays so retries happen within the test.
const FAST: &str = "backoff_base_secs = 0.01\nbackoff_max_secs = 0.05";

async fn post(app: &TestApp, id: &str) {
    let body = fixture_with_id("payment_intent.succeeded", id);
    assert_eq!(app.post_webhook(&body).await.status(), 200);
}

#[tokio::test]
async fn an_outage_is_retried_until_delivered_honouring_retry_after() {
    let sink = HttpSink::start().await;
    sink.fail_next(2, 503);
    sink.set_retry_after(Some("1".to_owned()));
    let app = spawn_app_with(&sink_config(&sink, FAST, "")).await;
    post(&app, "evt_outage").await;

    let jobs = app.settle("evt_outage").await;
    assert_eq!(jobs[0].status, JobStatus::Delivered);
    let attempts = app.store.attempts(jobs[0].id).await.expect("attempts");
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "retry", "delivered"]);
    for pair in attempts.windows(2) {
        let gap = pair[1].started_at_ms - pair[0].finished_at_ms;
        assert!(
            gap >= 1000,
            "Retry-After: 1 not honoured: {gap} ms between attempts"
        );
    }
    let received = sink.received();
    assert_eq!(received.len(), 3);
    let key = "stripe:evt_outage:notify:0";
    assert!(received
        .iter()
        .all(|r| r.header("idempotency-key") == Some(key)));
    assert_eq!(sink.delivered().len(), 1);
}

#[tokio::test]
async fn retries_stop_at_max_attempts_and_leave_a_dead_letter() {
    let sink = HttpSink::start().await;
    sink.set_status(503);
    let app = spawn_app_with(&sink_config(
        &sink,
        &format!("{FAST}\nmax_attempts = 3"),
        "",
    ))
    .await;
    post(&app, "evt_exhausted").await;
    let jobs = app.settle("evt_exhausted").await;
    assert_eq!(jobs[0].status, JobStatus::Dead);
    assert!(jobs[0].last_error.as_deref().unwrap_or("").contains("503"));
    let attempts = app.store.attempts(jobs[0].id).await.expect("attempts");
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a.outcome == "retry"));
}

#[tokio::test]
async fn a_rule_can_override_the_retry_policy() {
    let sink = HttpSink::start().await;
    sink.set_status(503);
    let app = spawn_app_with(&sink_config(&sink, FAST, "retry = { max_attempts = 1 }")).await;
    post(&app, "evt_rule_policy").await;
    let jobs = app.settle("evt_rule_policy").await;
    assert_eq!(jobs[0].status, JobStatus::Dead);
    assert_eq!(jobs[0].attempts, 1);
}

#[tokio::test]
async fn a_job_past_its_max_age_is_not_retried() {
    let sink = HttpSink::start().await;
    sink.set_status(503);
    let app = spawn_app_with(&sink_config(&sink, FAST, "retry = { max_age_secs = 0 }")).await;
    post(&app, "evt_too_old").await;
    let jobs = app.settle("evt_too_old").await;
    assert_eq!(jobs[0].status, JobStatus::Dead);
    assert_eq!(jobs[0].attempts, 1);
}

#[tokio::test]
async fn a_dead_letter_is_replayed_by_the_cli_once_the_destination_is_fixed() {
    let sink = HttpSink::start().await;
    sink.set_status(404);
    let app = spawn_app_with(&sink_config(&sink, FAST, "")).await;
    post(&app, "evt_replay").await;
    let jobs = app.settle("evt_replay").await;
    assert_eq!(jobs[0].status, JobStatus::Dead, "a 404 is permanent");

    let config = app.config_path();
    let (ok, listed, err) = crate::helpers::cli(&config, &["dead-letters"]).await;
    assert!(ok, "{err}");
    assert!(listed.contains("evt_replay"), "{listed}");
    let job_id = jobs[0].id.to_string();
    for (args, key) in [
        (vec!["dead-letters", "--json"], "dead_letters"),
        (vec!["job", job_id.as_str(), "--json"], "job"),
    ] {
        let (ok, out, err) = crate::helpers::cli(&config, &args).await;
        assert!(ok, "{args:?}: {err}");
        let json: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"));
        assert!(
            out.contains("evt_replay") && json.get(key).is_some(),
            "{args:?}: {out}"
        );
    }

    sink.set_status(200);
    let (ok, dry, err) =
        crate::helpers::cli(&config, &["replay", "--event", "evt_replay", "--dry-run"]).await;
    assert!(ok, "{err}");
    assert!(dry.contains("1 dead letters would be replayed"), "{dry}");
    assert_eq!(app.jobs("evt_replay").await[0].status, JobStatus::Dead);

    let (ok, _, err) = crate::helpers::cli(&config, &["replay"]).await;
    assert!(!ok, "an unfiltered replay needs --all");
    assert!(err.contains("--all"), "{err}");

    let (ok, done, err) = crate::helpers::cli(&config, &["replay", "--event", "evt_replay"]).await;
    assert!(ok, "{err}");
    assert!(done.contains("replayed 1 of 1"), "{done}");
    let jobs = app.settle("evt_replay").await;
    assert_eq!(jobs[0].status, JobStatus::Delivered);
    assert_eq!(sink.delivered().len(), 1, "delivered exactly once");
    let attempts = app.store.attempts(jobs[0].id).await.expect("attempts");
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failed", "delivered"], "the history is kept");
}

#[tokio::test]
async fn an_open_breaker_holds_jobs_back_without_spending_attempts() {
    let sink = HttpSink::start().await;
    sink.set_status(503);
    let dispatch =
        format!("{FAST}\nconcurrency = 1\nbreaker_failures = 2\nbreaker_cooldown_secs = 60");
    let app = spawn_app_with(&sink_config(&sink, &dispatch, "")).await;
    for id in ["evt_b1", "evt_b2", "evt_b3"] {
        post(&app, id).await;
    }
    app.dispatch_all_pending().await;
    assert!(app.dispatcher.breaker("sink").expect("breaker").is_open());
    assert_eq!(
        sink.received().len(),
        2,
        "the third job never reached the destination"
    );
    let held = app.jobs("evt_b3").await;
    assert_eq!(held[0].status, JobStatus::Pending);
    assert_eq!(held[0].attempts, 0);
    assert!(app
        .store
        .attempts(held[0].id)
        .await
        .expect("attempts")
        .is_empty());
    assert!(
        app.metrics
            .get("herald_deliveries_held_total", &[("plugin", "sink")])
            >= 1
    );
}

/// An instance a hot reload adds gets a breaker as one configured at start does.
#[tokio::test]
async fn an_instance_added_by_a_reload_has_its_breaker() {
    let sink = HttpSink::start().await;
    let added = HttpSink::start().await;
    added.set_status(503);
    let dispatch =
        format!("{FAST}\nconcurrency = 1\nbreaker_failures = 2\nbreaker_cooldown_secs = 60");
    let text = sink_config(&sink, &dispatch, "");
    let app = spawn_app_with(&text).await;
    let with_added = format!(
        "{text}{instance}max_concurrency = 1\n{rule}",
        instance = webhook_instance("added", &added.url()),
        rule = rule("added", ON_PAID, r#"plugin = "added", path = "/added""#),
    );
    std::fs::write(app.config_path(), with_added).expect("test step");
    let changes = app.reload().await;
    assert_eq!(changes.plugins_added, ["added"], "{changes:?}");
    for id in ["evt_a1", "evt_a2", "evt_a3"] {
        post(&app, id).await;
    }
    app.dispatch_all_pending().await;
    assert!(app.dispatcher.breaker("added").expect("breaker").is_open());
    assert_eq!(
        added.received().len(),
        2,
        "the third job never reached the added destination"
    );
    assert_eq!(sink.delivered().len(), 3, "the other instance is not held");
}

#[tokio::test]
async fn the_admin_api_lists_replays_and_redelivers() {
    let sink = HttpSink::start().await;
    sink.set_status(404);
    let app = spawn_app_with(&sink_config(&sink, FAST, "")).await;
    post(&app, "evt_admin").await;
    app.settle("evt_admin").await;

    let unauthorized = app.get(app.admin_url("/api/dead-letters")).await;
    assert_eq!(unauthorized.status(), 401);

    let auth = format!("Bearer {ADMIN_TOKEN}");
    let listed: Value = app.admin_json("/api/dead-letters?event_id=evt_admin").await;
    let dead = listed["dead_letters"].as_array().expect("list");
    assert_eq!(dead.len(), 1);
    let job_id = dead[0]["id"].as_i64().expect("id");

    // An empty id list matches no dead letter; it does not mean "every one".
    let empty: Value = app
        .client
        .post(app.admin_url("/api/dead-letters/replay"))
        .header("authorization", &auth)
        .json(&serde_json::json!({ "filter": { "job_ids": [] } }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(empty["matched"], 0, "{empty}");

    let replay = |dry_run: bool| {
        app.client
            .post(app.admin_url("/api/dead-letters/replay"))
            .header("authorization", &auth)
            .json(&serde_json::json!({ "filter": { "event_id": "evt_admin" }, "dry_run": dry_run }))
            .send()
    };
    let dry: Value = replay(true)
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (dry["matched"].as_u64(), dry["replayed"].as_u64()),
        (Some(1), Some(0))
    );

    sink.set_status(200);
    let done: Value = replay(false)
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(done["replayed"], 1);
    assert_eq!(
        app.settle("evt_admin").await[0].status,
        JobStatus::Delivered
    );

    // After a template fix, say: deliver the whole event again.
    let again: Value = app
        .client
        .post(app.admin_url("/api/events/stripe/evt_admin/redeliver"))
        .header("authorization", &auth)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(again["requeued"], 1);
    assert_eq!(
        app.settle("evt_admin").await[0].status,
        JobStatus::Delivered
    );
    assert_eq!(sink.delivered().len(), 2);

    let job: Value = app.admin_json(&format!("/api/jobs/{job_id}")).await;
    assert_eq!(job["attempts"].as_array().map(Vec::len), Some(3));

    let missing = app
        .client
        .post(app.admin_url("/api/events/stripe/evt_nope/redeliver"))
        .header("authorization", &auth)
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn pruning_removes_delivered_events_and_keeps_dead_letters() {
    let sink = HttpSink::start().await;
    let app = spawn_app_with(&sink_config(&sink, FAST, "")).await;
    post(&app, "evt_done").await;
    app.settle("evt_done").await;
    sink.set_status(404);
    post(&app, "evt_dead").await;
    app.settle("evt_dead").await;

    let future = chrono::Utc::now().timestamp_millis() + 60_000;
    let pruned = app.store.prune_delivered(future).await.expect("prune");
    assert_eq!((pruned.events, pruned.jobs, pruned.attempts), (1, 1, 1));
    assert!(app.jobs("evt_done").await.is_empty());
    assert_eq!(app.jobs("evt_dead").await.len(), 1);
}

#[tokio::test]
async fn a_destination_never_gets_more_than_its_max_concurrency() {
    let sink = HttpSink::start().await;
    sink.set_delay(std::time::Duration::from_millis(20));
    let config = sink_config(&sink, "concurrency = 8", "").replace(
        "[plugins.webhook.sink]",
        "[plugins.webhook.sink]\nmax_concurrency = 2",
    );
    let app = spawn_app_with(&config).await;
    for i in 0..12 {
        post(&app, &format!("evt_limit_{i}")).await;
    }
    assert_eq!(app.dispatch_all_pending().await, 12);
    assert_eq!(sink.delivered().len(), 12);
    assert!(
        sink.max_in_flight() <= 2,
        "{} requests in flight at once",
        sink.max_in_flight()
    );
}

#[tokio::test]
async fn the_running_dispatcher_claims_ahead_but_delivers_at_most_its_concurrency() {
    let sink = HttpSink::start().await;
    sink.set_delay(std::time::Duration::from_millis(20));
    // The running dispatcher claims up to three jobs per slot; only two may be
    // at the sink at once, and every one is delivered once.
    let config = running_config(&sink, "concurrency = 2\npoll_interval_ms = 50");
    let app = spawn_app_with(&config).await;
    for i in 0..20 {
        post(&app, &format!("evt_ahead_{i}")).await;
    }
    let delivered = sink.wait_for(20, std::time::Duration::from_secs(30)).await;
    assert_eq!(delivered.len(), 20);
    assert_eq!(sink.unique_idempotency_keys(), 20);
    assert!(
        sink.max_in_flight() <= 2,
        "{} requests in flight at once",
        sink.max_in_flight()
    );
    // Every attempt is recorded: no job is left leased to be delivered again.
    let ids: Vec<_> = (0..20).map(|i| format!("evt_ahead_{i}")).collect();
    let all_delivered =
        |states: &[(JobStatus, u32)]| states.iter().all(|(s, _)| *s == JobStatus::Delivered);
    let states = job_states_until(&app, &ids, all_delivered).await;
    assert!(all_delivered(&states), "{states:?}");
}

/// The status and attempts of each event's job, polled until `done` holds or 10 s pass.
async fn job_states_until(
    app: &TestApp,
    event_ids: &[String],
    done: impl Fn(&[(JobStatus, u32)]) -> bool,
) -> Vec<(JobStatus, u32)> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut states = Vec::with_capacity(event_ids.len());
        for event_id in event_ids {
            let jobs = app.jobs(event_id).await;
            states.push((jobs[0].status, jobs[0].attempts));
        }
        if done(&states) || tokio::time::Instant::now() >= deadline {
            return states;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_stop_puts_claimed_jobs_that_had_not_started_back_unspent() {
    let sink = HttpSink::start().await;
    sink.set_delay(std::time::Duration::from_millis(500));
    let config = running_config(&sink, "concurrency = 1\npoll_interval_ms = 50");
    let app = spawn_app_with(&config).await;
    // One delivery in flight; the other two wait for the one slot.
    stop_while_the_first_of_three_is_delivered(&app, &sink).await;
}

#[tokio::test]
async fn a_stop_puts_back_jobs_waiting_for_their_destinations_turn() {
    let slow = HttpSink::start().await;
    slow.set_delay(std::time::Duration::from_millis(500));
    let fast = HttpSink::start().await;
    let app = spawn_app_with(&slow_and_fast_config(&slow, &fast)).await;
    // A slot is free, but the slow destination takes one request at a time: the
    // other two wait for its turn.
    stop_while_the_first_of_three_is_delivered(&app, &slow).await;
}

/// Posts three payments to `app`, which delivers them to `sink` (holding each
/// 500 ms) one at a time, and stops it while the first is at the sink. The
/// delivery in flight finishes; no other starts after the stop, and the jobs
/// that were waiting are pending again with no attempt spent.
async fn stop_while_the_first_of_three_is_delivered(app: &TestApp, sink: &HttpSink) {
    let ids: Vec<_> = (0..3).map(|i| format!("evt_stop_{i}")).collect();
    for id in &ids {
        post(app, id).await;
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while sink.received().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "nothing delivered");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    app.stop();
    let count = |states: &[(JobStatus, u32)], state: (JobStatus, u32)| {
        states
            .iter()
            .filter(|(status, attempts)| *status == state.0 && *attempts == state.1)
            .count()
    };
    let settled = |states: &[(JobStatus, u32)]| {
        count(states, (JobStatus::Delivered, 1)) == 1 && count(states, (JobStatus::Pending, 0)) == 2
    };
    let states = job_states_until(app, &ids, settled).await;
    assert!(settled(&states), "{states:?}");
    assert_eq!(sink.received().len(), 1);
}

/// A running config with two slots and two webhook destinations: `slow`, one
/// request at a time, for payments, and `fast` for refunds.
fn slow_and_fast_config(slow: &HttpSink, fast: &HttpSink) -> String {
    [
        base_config_with_dispatch("concurrency = 2\npoll_interval_ms = 50"),
        webhook_instance("slow", &slow.url()),
        "max_concurrency = 1\n".to_owned(),
        webhook_instance("fast", &fast.url()),
        rule("paid", ON_PAID, r#"plugin = "slow", path = "/events""#),
        rule(
            "refunded",
            r#"["charge.refunded"]"#,
            r#"plugin = "fast", path = "/events""#,
        ),
    ]
    .concat()
}

/// Posts `slow` payments then one refund, and asserts that the refund reaches
/// its destination while the slow one is still answering its first request
/// (the sink holds it 10 s).
async fn a_refund_overtakes(slow_events: usize) {
    let slow = HttpSink::start().await;
    slow.set_delay(std::time::Duration::from_secs(10));
    let fast = HttpSink::start().await;
    let app = spawn_app_with(&slow_and_fast_config(&slow, &fast)).await;
    for i in 0..slow_events {
        post(&app, &format!("evt_slow_{i}")).await;
    }
    let refund = fixture_with_id("charge.refunded", "evt_fast_0");
    assert_eq!(app.post_webhook(&refund).await.status(), 200);
    let delivered = fast.wait_for(1, std::time::Duration::from_secs(8)).await;
    assert_eq!(
        delivered.len(),
        1,
        "the refund waited behind the slow destination"
    );
    assert_eq!(slow.received().len(), 1);
    assert!(slow.delivered().is_empty());
}

#[tokio::test]
async fn a_destination_at_its_limit_does_not_hold_up_another_destinations_jobs() {
    // The slow destination's second and third jobs wait for its one request in
    // flight, not for a dispatch slot, so the refund takes the free slot at once.
    a_refund_overtakes(3).await;
}

#[tokio::test]
async fn a_slow_destinations_backlog_does_not_take_every_claimed_place() {
    // Eight payments would fill the six jobs two slots may claim ahead; the slow
    // destination may hold three of them, and the claims pass over it after that.
    a_refund_overtakes(8).await;
}
