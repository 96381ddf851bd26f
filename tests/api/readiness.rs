//! `/readyz` follows whether the database takes writes, not only whether it answers.

use herald_plugin_inventory::ledger::{StockLedger, StockMove};
use serde_json::Value;

use crate::helpers::{base_config, fixture_with_id, spawn_app_with, TestApp};

async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("sent");
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
    let moves = [StockMove {
        sku: "SKU-A".to_owned(),
        delta: 1,
    }];
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
