//! `rate_limit` on a plugin instance: herald paces the deliveries to it, in order,
//! losing none. How the bucket spaces them is shown under a paused clock in
//! `dispatch::rate`'s tests; here a real dispatcher delivers to a real sink.

use crate::helpers::{base_config_with_dispatch, fixture_with_id, spawn_app_with};
use herald_testkit::HttpSink;

#[tokio::test]
async fn a_hundred_jobs_at_20_per_second_all_arrive_in_order() {
    let sink = HttpSink::start().await;
    let config = format!(
        r#"{base}
[plugins.webhook.paced]
url = "{url}"
rate_limit = "20/s"
max_concurrency = 1

[[rules]]
name = "notify"
on = ["*"]
actions = [{{ plugin = "paced", path = "/events" }}]
"#,
        base = base_config_with_dispatch("enabled = false\nconcurrency = 8"),
        url = sink.url()
    );
    let app = spawn_app_with(&config).await;
    let ids: Vec<String> = (0..100).map(|i| format!("evt_paced_{i:03}")).collect();
    for id in &ids {
        let body = fixture_with_id("payment_intent.succeeded", id);
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }

    // Stepped, so each claim takes the oldest due jobs: the running loop's claims
    // ahead may put a full destination's job back behind later ones.
    assert_eq!(app.dispatch_all_pending().await, 100);
    let received = sink.received();
    assert_eq!(received.len(), 100);
    let keys: Vec<String> = received
        .iter()
        .map(|request| request.header("idempotency-key").unwrap_or("").to_owned())
        .collect();
    let expected: Vec<String> = ids
        .iter()
        .map(|id| format!("stripe:{id}:notify:0"))
        .collect();
    assert_eq!(keys, expected, "in the order they came, each once");
    assert_eq!(sink.unique_idempotency_keys(), 100);
}
