//! Several herald replicas on one PostgreSQL: they share the work, and no job is
//! delivered twice.

use std::time::Duration;

use herald::store::JobStatus;
use tokio::task::JoinSet;

use crate::helpers::{
    base_config_with_dispatch, fixture_with_id, fresh_postgres, notify_sink, spawn_app_with,
};
use herald_testkit::HttpSink;

const EVENTS: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_deliver_each_of_1000_jobs_exactly_once() {
    let Some(database) = fresh_postgres().await else {
        return;
    };
    let sink = HttpSink::start().await;
    let config = format!(
        r#"{base}
[database]
url = "{database}"

{notify}"#,
        base = base_config_with_dispatch("poll_interval_ms = 50\nconcurrency = 16"),
        database = database.url,
        notify = notify_sink(&sink.url(), r#"["*"]"#, ""),
    );
    let replicas = [spawn_app_with(&config).await, spawn_app_with(&config).await];

    // Every replica receives webhooks too: alternate between them.
    let mut posts = JoinSet::new();
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    for i in 0..EVENTS {
        let app = &replicas[i % 2];
        let url = app.url("/webhooks/stripe");
        let client = app.client.clone();
        let permit = semaphore.clone().acquire_owned().await.expect("semaphore");
        posts.spawn(async move {
            let body = fixture_with_id("payment_intent.succeeded", &format!("evt_replica_{i}"));
            let status = client
                .post(url)
                .header("stripe-signature", crate::helpers::signature(&body))
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16());
            drop(permit);
            status
        });
    }
    while let Some(done) = posts.join_next().await {
        assert_eq!(done.expect("join").expect("sent"), 200);
    }

    let delivered = sink.wait_for(EVENTS, Duration::from_secs(120)).await;
    assert_eq!(delivered.len(), EVENTS, "every job delivered");
    // Every job recorded as delivered after a single claim: none was handed to
    // two workers, so no second delivery can still be on its way.
    let store = &replicas[0].store;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for i in 0..EVENTS {
        let event_id = format!("evt_replica_{i}");
        let job = loop {
            let jobs = store.jobs_for_event("stripe", &event_id).await;
            let jobs = jobs.expect("jobs");
            assert_eq!(jobs.len(), 1, "{event_id}: {jobs:?}");
            if jobs[0].status == JobStatus::Delivered {
                break jobs[0].clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{event_id} never recorded: {jobs:?}"
            );
            // Waiting for the state: its attempt is being recorded.
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(job.attempts, 1, "{event_id} was claimed twice: {job:?}");
    }
    assert_eq!(sink.unique_idempotency_keys(), EVENTS);
    assert_eq!(sink.delivered().len(), EVENTS, "no job delivered twice");

    let done_by = |i: usize| {
        replicas[i].metrics.get(
            "herald_deliveries_total",
            &[("plugin", "sink"), ("outcome", "delivered")],
        )
    };
    let (a, b) = (done_by(0), done_by(1));
    eprintln!("replicas: {EVENTS} jobs, replica A delivered {a}, replica B delivered {b}");
    assert!(a > 0 && b > 0, "both replicas did work: {a} and {b}");
    assert_eq!(a + b, EVENTS as u64);
}
