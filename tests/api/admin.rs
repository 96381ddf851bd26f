//! The admin API against hostile or careless requests: an empty purge, the bearer
//! scheme in any case.

use herald::store::JobStatus;
use herald_testkit::HttpSink;
use serde_json::{json, Value};

use crate::helpers::{base_config, fixture_with_id, spawn_app_with, TestApp, ADMIN_TOKEN};

/// herald with the admin API on and every event delivered to `sink`.
async fn app_with_sink(sink: &HttpSink) -> TestApp {
    let config = format!(
        r#"{base}
[admin]
token = "${{HERALD_ADMIN_TOKEN}}"

[plugins.webhook.sink]
url = "{url}"

[[rules]]
name = "notify"
on = ["*"]
actions = [{{ plugin = "sink" }}]
"#,
        base = base_config(),
        url = sink.url()
    );
    spawn_app_with(&config).await
}

/// A dead letter: the sink refuses the event for good.
async fn dead_letter(app: &TestApp, sink: &HttpSink, id: &str) {
    sink.set_status(404);
    let body = fixture_with_id("payment_intent.succeeded", id);
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    assert_eq!(app.settle(id).await[0].status, JobStatus::Dead);
}

async fn purge(app: &TestApp, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/admin/purge"))
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .json(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn an_empty_purge_filter_is_refused_unless_it_says_all() {
    let sink = HttpSink::start().await;
    let app = app_with_sink(&sink).await;
    dead_letter(&app, &sink, "evt_keep").await;

    let (status, body) = purge(&app, &json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("\"all\": true")),
        "{body}"
    );
    let (status, body) = purge(&app, &json!({ "all": false })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(app.settle("evt_keep").await[0].status, JobStatus::Dead);

    let (status, body) = purge(&app, &json!({ "event_id": "evt_other" })).await;
    assert_eq!((status, &body["purged"]), (200, &json!(0)), "{body}");
    let (status, body) = purge(&app, &json!({ "all": true })).await;
    assert_eq!((status, &body["purged"]), (200, &json!(1)), "{body}");
    assert!(app.settle("evt_keep").await.is_empty());
}

#[tokio::test]
async fn the_bearer_scheme_is_accepted_in_any_case() {
    let sink = HttpSink::start().await;
    let app = app_with_sink(&sink).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .client
            .get(app.url("/admin/dead-letters"))
            .header("authorization", format!("{scheme} {ADMIN_TOKEN}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "{scheme}");
    }
    for value in [
        format!("Basic {ADMIN_TOKEN}"),
        format!("bearer {ADMIN_TOKEN}x"),
    ] {
        let response = app
            .client
            .get(app.url("/admin/dead-letters"))
            .header("authorization", &value)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 401, "{value}");
    }
}
