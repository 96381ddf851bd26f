//! The HTTP sinks themselves, driven with a plain HTTP client.

use std::time::Duration;

use herald_testkit::{canned, closed_port, HttpSink};

const WAIT: Duration = Duration::from_secs(10);

async fn post(client: &reqwest::Client, url: &str, key: &str) -> reqwest::Response {
    client
        .post(url)
        .header("Idempotency-Key", key)
        .body(format!("{{\"key\":\"{key}\"}}"))
        .send()
        .await
        .expect("sink answers")
}

#[tokio::test]
async fn records_requests_and_answers_as_told() {
    let sink = HttpSink::start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/a%2Fb/c?x=1", sink.url());

    assert_eq!(post(&client, &url, "k1").await.status(), 200);
    sink.fail_next(2, 503);
    sink.set_retry_after(Some("7".into()));
    let failed = post(&client, &url, "k2").await;
    assert_eq!(failed.status(), 503);
    assert_eq!(failed.headers()["retry-after"], "7");
    assert_eq!(post(&client, &url, "k2").await.status(), 503);
    assert_eq!(post(&client, &url, "k2").await.status(), 200);
    sink.set_status(404);
    assert_eq!(post(&client, &url, "k3").await.status(), 404);

    let received = sink.received();
    assert_eq!(received.len(), 5);
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].path, "/a%2Fb/c");
    assert_eq!(received[0].query.as_deref(), Some("x=1"));
    assert_eq!(received[0].header("IDEMPOTENCY-KEY"), Some("k1"));
    assert_eq!(received[0].body, b"{\"key\":\"k1\"}");
    let delivered = sink.wait_for(2, WAIT).await;
    assert_eq!(delivered.len(), 2);
    assert_eq!(sink.unique_idempotency_keys(), 2);
}

#[tokio::test]
async fn handles_hundreds_of_concurrent_requests() {
    let sink = HttpSink::start().await;
    sink.set_delay(Duration::from_millis(50));
    let client = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..300 {
        let client = client.clone();
        let url = sink.url();
        tasks.spawn(async move { post(&client, &url, &format!("k{n}")).await.status() });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.expect("task"), 200);
    }
    assert_eq!(sink.wait_for(300, WAIT).await.len(), 300);
    assert_eq!(sink.unique_idempotency_keys(), 300);
    assert!(sink.max_in_flight() > 1);
}

#[tokio::test]
async fn stops_when_dropped() {
    let sink = HttpSink::start().await;
    let url = sink.url();
    drop(sink);
    // The listener closes once the server task sees the shutdown signal.
    let client = reqwest::Client::new();
    let mut refused = false;
    for _ in 0..50 {
        if client.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the sink still answers after being dropped");
}

#[tokio::test]
async fn a_canned_server_answers_every_request_alike() {
    let url = canned(418, r#"{"error": "teapot"}"#).await;
    let client = reqwest::Client::new();
    for path in ["/", "/v1/messages"] {
        let response = post(&client, &format!("{url}{path}"), "k").await;
        assert_eq!(response.status(), 418);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(
            response.text().await.expect("body"),
            r#"{"error": "teapot"}"#
        );
    }
}

#[tokio::test]
async fn a_closed_port_refuses_connections() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let error = reqwest::Client::new()
        .get(&url)
        .send()
        .await
        .expect_err("refused");
    assert!(error.is_connect(), "{error}");
}
