//! `/readyz` follows whether the database takes writes, not only whether it answers.

use herald_plugin_inventory::ledger::{StockLedger, StockMove};
use serde_json::Value;

use crate::helpers::{base_config, fixture_with_id, spawn_app_with, TestApp};

async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app.get(app.url("/readyz")).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn post(app: &TestApp, id: &str) -> u16 {
    let body = fixture_with_id("payment_intent.succeeded", id);
    app.post_webhook(&body).await.status().as_u16()
}

#[tokio::test]
async fn readiness_fails_while_commits_fail_for_a_full_database_and_comes_back() {
    let app = spawn_app_with(&base_config()).await;
    assert_eq!(readyz(&app).await.0, 200);

    // The file may not grow: every commit needing a new page fails with SQLITE_FULL.
    app.store.cap_sqlite_size(true).await.expect("capped");
    let mut refused = None;
    for i in 0..2000 {
        let status = post(&app, &format!("evt_full_{i}")).await;
        if status != 200 {
            refused = Some(status);
            break;
        }
    }
    assert_eq!(refused, Some(503), "a full database refused no webhook");
    assert!(app.store.failing_writes() > 0);
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "writes failing", "{body}");
    // Reads still work, which is why a ping alone said ready.
    app.store.ping().await.expect("ping");
    assert_eq!(readyz(&app).await.0, 503, "still full");

    // A transaction of its own fails too, and SQLite ends it by itself.
    let big_key = "k".repeat(8000);
    let moves = [StockMove::new("SKU-A", 1)];
    let err = app.store.apply(&big_key, "evt", &moves).await.unwrap_err();
    assert!(err.to_string().contains("full"), "{err}");

    app.store.cap_sqlite_size(false).await.expect("uncapped");
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.store.failing_writes(), 0);
    assert_eq!(post(&app, "evt_after_full").await, 200);
    // The writer connection is sound again: its transactions begin.
    assert_eq!(app.store.apply("k1", "evt", &moves).await, Ok(true));
}

#[tokio::test]
async fn the_readiness_probe_writes_on_every_backend() {
    for (backend, store, _guard) in crate::helpers::backends().await {
        for _ in 0..2 {
            store
                .probe_write()
                .await
                .unwrap_or_else(|e| panic!("{backend}: {e}"));
        }
        assert_eq!(store.failing_writes(), 0, "{backend}");
    }
}

/// `rm herald.db*` under a running herald: SQLite goes on committing into the unlinked
/// files, and a restart opens an empty database. Acknowledging then loses the event.
#[tokio::test]
async fn a_database_deleted_under_herald_refuses_webhooks_and_readiness() {
    let app = spawn_app_with(&base_config()).await;
    assert_eq!(post(&app, "evt_before_rm").await, 200);
    assert_eq!(readyz(&app).await.0, 200);
    for suffix in ["", "-wal", "-shm"] {
        let path = app.dir.path().join(format!("herald.db{suffix}"));
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "not durable", "{body}");
    assert!(
        body["reason"].as_str().expect("reason").contains("deleted"),
        "{body}"
    );
    assert_eq!(post(&app, "evt_after_rm").await, 503);
    // Put back by a restore (another file at the path): still not the file opened.
    std::fs::write(app.dir.path().join("herald.db"), b"").expect("a new file");
    assert_eq!(post(&app, "evt_after_restore").await, 503);
    assert_eq!(readyz(&app).await.0, 503);
}

/// A probe's own timeout, and a webhook's: far above what herald needs to answer,
/// far below the waits this test guards against (a hung probe; a webhook waiting out
/// a pool timeout per write of its batch, up to the 30 s request timeout).
const ANSWERED_WITHIN: std::time::Duration = std::time::Duration::from_secs(6);

/// PostgreSQL gone from the network (packets dropped): readiness must answer 503, not
/// hang, and a webhook must get its 503 soon enough for Stripe to retry, not wait out
/// the request timeout. Nothing acknowledged is lost across the outage.
#[tokio::test]
async fn with_postgres_unreachable_readiness_and_webhooks_answer_503_without_hanging() {
    let Some(database) = crate::helpers::fresh_postgres().await else {
        return;
    };
    let mut url = reqwest::Url::parse(&database.url).expect("url");
    let target = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    );
    let target = tokio::net::lookup_host(target)
        .await
        .expect("resolves")
        .next()
        .expect("an address");
    let gate = herald_testkit::TcpGate::start(target).await;
    url.set_port(Some(gate.addr().port())).expect("port");
    url.set_host(Some("127.0.0.1")).expect("host");
    let text = format!("{}\n[database]\nurl = \"{url}\"\n", base_config());
    let app = spawn_app_with(&text).await;
    assert_eq!(post(&app, "evt_pg_before").await, 200);

    gate.shut();
    let client = reqwest::Client::builder()
        .timeout(ANSWERED_WITHIN)
        .build()
        .expect("client");
    let ready = client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readiness answered instead of hanging");
    assert_eq!(ready.status(), 503);
    let body = fixture_with_id("payment_intent.succeeded", "evt_pg_during");
    let answer = client
        .post(app.url("/webhooks/stripe"))
        .header("stripe-signature", crate::helpers::signature(&body))
        .body(body)
        .send()
        .await
        .expect("the webhook answered instead of waiting out the request timeout");
    assert_eq!(answer.status(), 503);

    gate.open();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while post(&app, "evt_pg_after").await != 200 {
        assert!(tokio::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    let stored = app
        .store
        .event("stripe", "evt_pg_before")
        .await
        .expect("read");
    assert!(stored.is_some(), "an acknowledged event was lost");
}
