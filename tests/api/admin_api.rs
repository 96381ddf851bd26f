//! The admin JSON API's reads: events page by page on every backend, filters,
//! one event in full, inventory, and the config in force with its secrets masked.

use std::collections::HashSet;

use herald_testkit::HttpSink;
use serde_json::Value;

use crate::helpers::{
    base_config, database_table, fresh_postgres, rule, spawn_app_with, webhook_instance,
    PgDatabase, TestApp, ADMIN_TOKEN, SECRET,
};

/// herald whose payment_intent events go to `sink`; other types match no rule.
async fn app_on(postgres: Option<&PgDatabase>, sink: &HttpSink) -> TestApp {
    let config = [
        base_config(),
        database_table(postgres),
        "[admin]\ntoken = \"${HERALD_ADMIN_TOKEN}\"\n".to_owned(),
        webhook_instance("sink", &sink.url()),
        rule(
            "notify",
            r#"["payment_intent.*"]"#,
            r#"plugin = "sink", path = "/events""#,
        ),
        "when = \"order_id exists\"\n".to_owned(),
    ]
    .concat();
    spawn_app_with(&config).await
}

/// `GET path` with the token: status and JSON body.
async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.admin_get(path).send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// The ids of a listing.
fn ids(listing: &Value) -> Vec<String> {
    listing["events"]
        .as_array()
        .expect("an events array")
        .iter()
        .map(|event| event["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test]
async fn paging_through_events_returns_each_once_newest_first_on_every_backend() {
    let sink = HttpSink::start().await;
    let postgres = fresh_postgres().await;
    let mut apps = vec![("sqlite", app_on(None, &sink).await)];
    if let Some(db) = &postgres {
        apps.push(("postgres", app_on(Some(db), &sink).await));
    }
    for (backend, app) in &apps {
        // Quick succession: several share a millisecond, so the cursor's tie-break counts.
        let posted: Vec<String> = (0..23).map(|i| format!("evt_page_{i:02}")).collect();
        for id in &posted {
            app.post_order_event("payment_intent.succeeded", id, "ORDER1")
                .await;
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(cursor) => format!("/api/events?limit=5&cursor={cursor}"),
                None => "/api/events?limit=5".to_owned(),
            };
            let (status, page) = get(app, &path).await;
            assert_eq!(status, 200, "{backend}: {page}");
            seen.extend(ids(&page));
            pages += 1;
            if pages == 1 {
                // One arriving mid-listing is newer than every page still to come.
                app.post_order_event("payment_intent.succeeded", "evt_page_late", "ORDER1")
                    .await;
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 5, "{backend}: 23 events in pages of 5");
        let expected: Vec<String> = posted.iter().rev().cloned().collect();
        assert_eq!(seen, expected, "{backend}: each once, newest first");

        // A page that ends exactly at the last event says there is no other.
        let (_, all) = get(app, "/api/events?limit=24").await;
        assert_eq!(ids(&all).len(), 24, "{backend}");
        assert!(all["next_cursor"].is_null(), "{backend}: {all}");
    }
}

#[tokio::test]
async fn event_listings_filter_by_type_order_status_and_time() {
    let sink = HttpSink::start().await;
    let app = app_on(None, &sink).await;
    app.post_order_event("payment_intent.succeeded", "evt_paid", "ORDER1")
        .await;
    app.post_order_event("charge.refunded", "evt_refund", "ORDER2")
        .await;
    let (_, all) = get(&app, "/api/events").await;
    assert_eq!(ids(&all), ["evt_refund", "evt_paid"]);
    let paid_at = all["events"][1]["received_at_ms"].as_i64().expect("a time");
    let refund_at = all["events"][0]["received_at_ms"].as_i64().expect("a time");
    assert_eq!(all["events"][1]["status"], "pending");
    assert_eq!(all["events"][1]["jobs"]["pending"], 1);
    assert_eq!(all["events"][0]["status"], "delivered", "no rule matched");

    // Two events may share a millisecond; the time filters are judged by the times.
    let at_or_after = |at: i64| {
        [("evt_refund", refund_at), ("evt_paid", paid_at)]
            .into_iter()
            .filter(|(_, received)| *received >= at)
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    };
    let before = |at: i64| {
        [("evt_refund", refund_at), ("evt_paid", paid_at)]
            .into_iter()
            .filter(|(_, received)| *received < at)
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    };
    let cases = [
        ("type=payment_intent.*".to_owned(), vec!["evt_paid"]),
        ("type=charge.refunded".to_owned(), vec!["evt_refund"]),
        ("order_id=ORDER2".to_owned(), vec!["evt_refund"]),
        ("status=pending".to_owned(), vec!["evt_paid"]),
        ("status=dead".to_owned(), vec![]),
        (format!("since_ms={refund_at}"), at_or_after(refund_at)),
        (format!("until_ms={}", paid_at + 1), before(paid_at + 1)),
        (format!("until_ms={paid_at}"), vec![]),
        (
            format!(
                "status=pending&since_ms={paid_at}&until_ms={}",
                refund_at + 1
            ),
            vec!["evt_paid"],
        ),
    ];
    for (query, expected) in cases {
        let (status, listing) = get(&app, &format!("/api/events?{query}")).await;
        assert_eq!(status, 200, "{query}: {listing}");
        assert_eq!(ids(&listing), expected, "{query}");
    }
    for query in [
        "status=lost",
        "type=charge%20refunded",
        "cursor=nope",
        "limit=0",
        "colour=red",
    ] {
        let response = app
            .admin_get(&format!("/api/events?{query}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 400, "{query}");
    }
}

#[tokio::test]
async fn one_event_shows_its_jobs_attempts_and_payload() {
    let sink = HttpSink::start().await;
    sink.set_status(500);
    let app = app_on(None, &sink).await;
    app.post_order_event("payment_intent.succeeded", "evt_detail", "ORDER9")
        .await;
    app.dispatch_all_pending().await;

    let (status, detail) = get(&app, "/api/events/stripe/evt_detail").await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["event"]["id"], "evt_detail");
    assert_eq!(detail["event"]["order_id"], "ORDER9");
    assert_eq!(detail["event"]["status"], "pending");
    assert_eq!(detail["payload"]["id"], "evt_detail");
    assert_eq!(detail["payload"]["type"], "payment_intent.succeeded");
    let job = &detail["jobs"][0];
    assert_eq!(
        (&job["rule"], &job["plugin"]),
        (&"notify".into(), &"sink".into())
    );
    let history = job["history"].as_array().expect("attempts");
    assert_eq!(history.len(), 1, "{job}");
    assert_eq!(history[0]["outcome"], "retry");
    assert!(history[0]["duration_ms"].as_i64().is_some(), "{job}");

    let (status, body) = get(&app, "/api/events/stripe/evt_nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "no stored event stripe/evt_nope");
}

#[tokio::test]
async fn inventory_levels_are_listed() {
    let sink = HttpSink::start().await;
    let app = app_on(None, &sink).await;
    let (status, body) = get(&app, "/api/inventory").await;
    assert_eq!((status, &body["levels"]), (200, &Value::Array(Vec::new())));
    let (status, body) = get(&app, "/api/inventory/SKU-1").await;
    assert_eq!((status, &body["levels"]), (200, &Value::Array(Vec::new())));
}

#[tokio::test]
async fn the_config_in_force_is_shown_with_its_secrets_masked() {
    let sink = HttpSink::start().await;
    let app = app_on(None, &sink).await;
    let response = app.admin_get("/api/config").send().await.expect("sent");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    for secret in [SECRET, ADMIN_TOKEN] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    let config: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(config["sources"]["stripe"]["secret"], "<hidden>");
    assert_eq!(config["admin"]["token"], "<hidden>");
    assert_eq!(config["admin"]["listen"], "127.0.0.1:0");
    assert_eq!(config["shop"]["name"], "Test Shop");
    assert_eq!(config["rules"][0]["name"], "notify");
    assert_eq!(config["rules"][0]["on"][0], "payment_intent.*");
    assert_eq!(config["rules"][0]["when"], "order_id exists");
    assert_eq!(config["rules"][0]["actions"][0]["plugin"], "sink");
    assert_eq!(config["plugins"][0]["kind"], "webhook");
    let names: HashSet<&str> = config
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    for table in [
        "server",
        "database",
        "dispatch",
        "sources",
        "templates",
        "shop",
        "plugins",
        "rules",
    ] {
        assert!(names.contains(table), "{table}");
    }
}

#[tokio::test]
async fn the_config_shown_is_the_one_a_reload_put_in_force() {
    let sink = HttpSink::start().await;
    let app = app_on(None, &sink).await;
    let path = app.config_path();
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(&path, text.replace("Test Shop", "Reloaded Shop")).expect("written");
    app.reload().await;
    let (_, config) = get(&app, "/api/config").await;
    assert_eq!(config["shop"]["name"], "Reloaded Shop");

    // A file that fails to load changes nothing shown.
    std::fs::write(&path, "[shop\n").expect("written");
    assert!(app.reloader.lock().await.reload("test").await.is_err());
    let (_, config) = get(&app, "/api/config").await;
    assert_eq!(config["shop"]["name"], "Reloaded Shop");
}
