//! kill -9 at any moment loses nothing: the real binary, killed mid-stream, restarted
//! on the same database, delivers every event it acknowledged.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::helpers::{
    fixture_with_id, notify_sink, process_config, repo, signature, HeraldProcess,
};
use herald_testkit::HttpSink;

/// Events posted per run, and after how many the run is killed.
const EVENTS_PER_RUN: usize = 120;
const KILL_AFTER: usize = 60;
const RUNS: usize = 3;
/// Requests in flight at once.
const CONCURRENCY: usize = 8;

fn crash_config(dir: &Path, sink: &HttpSink) -> String {
    format!(
        r#"{process}
[templates]
dir = "{templates}"

[sources.stripe]
secret = "${{STRIPE_WEBHOOK_SECRET}}"

{notify}"#,
        process = process_config(dir, "lease_secs = 1\n"),
        templates = repo().join("templates").display(),
        notify = notify_sink(&sink.url(), r#"["*"]"#, ""),
    )
}

/// Posts `ids` to `herald`, `CONCURRENCY` at a time, and kills it with SIGKILL the
/// moment the `kill_after`th answer arrives, while other requests are still in
/// flight; returns the ids answered 200.
async fn post_and_kill(herald: &HeraldProcess, ids: &[String], kill_after: usize) -> Vec<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let url = format!("http://{}/webhooks/stripe", herald.addr);
    let pid = herald.child.id().to_string();
    let answered = Arc::new(AtomicUsize::new(0));
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut requests = JoinSet::new();
    for id in ids {
        let body = fixture_with_id("payment_intent.succeeded", id);
        let request = client
            .post(&url)
            .header("stripe-signature", signature(&body))
            .body(body);
        let (id, pid, answered, slots) = (id.clone(), pid.clone(), answered.clone(), slots.clone());
        requests.spawn(async move {
            let _slot = slots.acquire_owned().await.ok()?;
            let response = request.send().await;
            if answered.fetch_add(1, Ordering::SeqCst) + 1 == kill_after {
                // Not through `HeraldProcess::signal`: this runs mid-stream, in a task.
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid])
                    .status();
            }
            (response.ok()?.status() == 200).then_some(id)
        });
    }
    let mut acked = Vec::new();
    while let Some(done) = requests.join_next().await {
        if let Ok(Some(id)) = done {
            acked.push(id);
        }
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_event() {
    let sink = HttpSink::start().await;
    // Deliveries take a moment, so kills land while some are in flight.
    sink.set_delay(Duration::from_millis(5));
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, crash_config(dir.path(), &sink)).expect("config");

    let mut acked = Vec::new();
    let mut sent = 0;
    for run in 0..RUNS {
        let herald = HeraldProcess::start(&config).await;
        let ids: Vec<String> = (0..EVENTS_PER_RUN)
            .map(|i| format!("evt_crash_{run}_{i}"))
            .collect();
        sent += ids.len();
        acked.extend(post_and_kill(&herald, &ids, KILL_AFTER).await);
        herald.wait().await;
    }

    // A last run, left alone: it must deliver everything the killed runs acknowledged.
    let herald = HeraldProcess::start(&config).await;
    let expected: HashSet<String> = acked
        .iter()
        .map(|id| format!("stripe:{id}:notify:0"))
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let delivered_keys = loop {
        let keys: HashSet<String> = sink
            .delivered()
            .iter()
            .filter_map(|r| r.header("idempotency-key").map(str::to_owned))
            .collect();
        if expected.is_subset(&keys) || tokio::time::Instant::now() > deadline {
            break keys;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    herald.signal("-TERM");
    assert_eq!(herald.wait().await, Some(0));

    let missing: Vec<&String> = expected.difference(&delivered_keys).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but never delivered: {missing:?}"
    );
    let deliveries = sink.delivered().len();
    let unique = sink.unique_idempotency_keys();
    assert!(unique <= sent, "more effects than events");
    assert!(
        sink.delivered()
            .iter()
            .all(|r| r.header("idempotency-key").is_some()),
        "every delivery carries its idempotency key"
    );
    eprintln!(
        "crash test: {sent} events sent, {} acknowledged, {} kills, {deliveries} deliveries, \
         {unique} distinct effects, {} duplicates dropped by the sink's idempotency key",
        acked.len(),
        RUNS,
        deliveries - unique
    );
}
