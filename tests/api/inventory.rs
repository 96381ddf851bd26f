//! The stock ledger refuses an adjustment that would take a level past `i64`, on
//! every backend and every path in (webhook, CLI, the ledger itself), and writes
//! nothing of it.

use herald::store::JobStatus;
use herald_plugin_inventory::ledger::{
    LedgerError, OrderApplied, OrderLines, StockLedger, StockMove,
};
use serde_json::Value;

use crate::helpers::{
    base_config, database_table, fresh_postgres, rule, spawn_app_with, PgDatabase, TestApp,
};

const NEAR_MAX: i64 = i64::MAX - 1;

/// herald with an inventory instance restocking on refunds, on SQLite or on `postgres`.
async fn app_on(postgres: Option<&PgDatabase>) -> TestApp {
    let config = [
        base_config(),
        database_table(postgres),
        "[plugins.inventory.stock]\n".to_owned(),
        rule("stock", r#"["charge.refunded"]"#, r#"plugin = "stock""#),
    ]
    .concat();
    spawn_app_with(&config).await
}

/// Each backend's app: SQLite always, PostgreSQL when a test server is configured.
async fn apps() -> Vec<(&'static str, TestApp, Option<PgDatabase>)> {
    let mut apps = vec![("sqlite", app_on(None).await, None)];
    if let Some(database) = fresh_postgres().await {
        apps.push(("postgres", app_on(Some(&database)).await, Some(database)));
    }
    apps
}

async fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    crate::helpers::cli(&app.config_path(), args).await
}

/// A refund of no order: its own lines go back as they are, once per job.
fn refund(id: &str, items: &str) -> Vec<u8> {
    let mut event = herald_testkit::stripe::fixture_with_items("charge.refunded", items);
    event["id"] = Value::from(id);
    if let Some(metadata) = event["data"]["object"]["metadata"].as_object_mut() {
        metadata.remove("order_id");
    }
    serde_json::to_vec(&event).expect("json")
}

#[tokio::test]
async fn a_cli_adjustment_past_i64_is_refused_and_writes_nothing() {
    for (backend, app, _db) in apps().await {
        let near_max = NEAR_MAX.to_string();
        let (ok, _, err) = cli(&app, &["inventory", "SKU-A", "--adjust", &near_max]).await;
        assert!(ok, "{backend}: {err}");

        let (ok, out, err) = cli(&app, &["inventory", "SKU-A", "--adjust", "10"]).await;
        assert!(!ok, "{backend}: an overflowing adjustment succeeded: {out}");
        assert!(err.contains("overflow"), "{backend}: {err}");
        assert!(err.contains("SKU-A"), "{backend}: {err}");

        // The ledger is still readable and holds the level from before.
        let (ok, out, err) = cli(&app, &["inventory"]).await;
        assert!(ok, "{backend}: {err}");
        assert!(
            out.split_whitespace().any(|w| w == near_max),
            "{backend}: {out}"
        );
        let (ok, out, err) = cli(&app, &["inventory", "SKU-A", "--json"]).await;
        assert!(ok, "{backend}: {err}");
        let json: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(json["levels"][0]["quantity"], NEAR_MAX, "{backend}: {out}");
        // Downwards works, and so does the way back up to the limit.
        let (ok, _, err) = cli(&app, &["inventory", "SKU-A", "--adjust", "-5"]).await;
        assert!(ok, "{backend}: {err}");
        let (ok, out, err) = cli(&app, &["inventory", "SKU-A", "--adjust", "6"]).await;
        assert!(ok, "{backend}: {err}");
        assert!(
            out.split_whitespace().any(|w| w == i64::MAX.to_string()),
            "{backend}: {out}"
        );
    }
}

#[tokio::test]
async fn a_webhook_whose_items_would_overflow_is_dead_lettered_with_the_reason() {
    for (backend, app, _db) in apps().await {
        let near_max = NEAR_MAX.to_string();
        let (ok, _, err) = cli(&app, &["inventory", "SKU-TEE", "--adjust", &near_max]).await;
        assert!(ok, "{backend}: {err}");

        // Two line items of one SKU, each within bounds, together past the limit;
        // and a SKU that would be fine on its own, which must not move either.
        let body = refund("evt_overflow", "SKU-MUG:3, SKU-TEE:1, SKU-TEE:1");
        assert_eq!(app.post_webhook(&body).await.status(), 200, "{backend}");
        let jobs = app.settle("evt_overflow").await;
        assert_eq!(jobs.len(), 1, "{backend}");
        assert_eq!(jobs[0].status, JobStatus::Dead, "{backend}: {jobs:?}");
        assert_eq!(jobs[0].attempts, 1, "{backend}: not retried: {jobs:?}");
        let reason = jobs[0].last_error.as_deref().unwrap_or_default();
        assert!(reason.contains("overflow"), "{backend}: {reason}");
        assert!(reason.contains("SKU-TEE"), "{backend}: {reason}");

        let (ok, out, err) = cli(&app, &["inventory"]).await;
        assert!(ok, "{backend}: {err}");
        assert!(!out.contains("SKU-MUG"), "{backend}: {out}");
        assert!(
            out.split_whitespace().any(|w| w == near_max),
            "{backend}: {out}"
        );

        // One item fits exactly.
        let body = refund("evt_fits", "SKU-TEE:1");
        assert_eq!(app.post_webhook(&body).await.status(), 200, "{backend}");
        let jobs = app.settle("evt_fits").await;
        assert_eq!(jobs[0].status, JobStatus::Delivered, "{backend}: {jobs:?}");
    }
}

#[tokio::test]
async fn the_ledger_nets_one_adjustments_moves_with_checked_sums_on_every_backend() {
    for (backend, store, _guard) in crate::helpers::backends().await {
        assert_eq!(
            store
                .apply("k0", "evt", &[StockMove::new("A", i64::MAX)])
                .await,
            Ok(true),
            "{backend}"
        );
        // Moves of one SKU that add up past i64 on their own.
        let err = store
            .apply(
                "k1",
                "evt",
                &[StockMove::new("B", i64::MAX), StockMove::new("B", 1)],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, LedgerError::Overflow(_)), "{backend}: {err}");
        // Below the bottom, too.
        let err = store
            .apply(
                "k2",
                "evt",
                &[
                    StockMove::new("B", 1),
                    StockMove::new("C", i64::MIN),
                    StockMove::new("C", -1),
                ],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, LedgerError::Overflow(_)), "{backend}: {err}");
        // A net move of zero at the limit is no overflow.
        assert_eq!(
            store
                .apply(
                    "k3",
                    "evt",
                    &[StockMove::new("A", 5), StockMove::new("A", -5)]
                )
                .await,
            Ok(true),
            "{backend}"
        );
        assert_eq!(
            store.levels(None).await.expect("levels"),
            [("A".to_owned(), i64::MAX)],
            "{backend}"
        );
        // The refused keys were not recorded: the same key with good moves applies.
        assert_eq!(
            store.apply("k1", "evt", &[StockMove::new("B", 1)]).await,
            Ok(true),
            "{backend}"
        );
    }
}

/// One order's announcements and refunds: the checkout, the payment and the charge
/// each take (only the first counts), a refund of one mug, then the full refund.
fn order_story() -> Vec<(&'static str, OrderLines)> {
    let lines = || vec![StockMove::new("TEE", 2), StockMove::new("MUG", 1)];
    vec![
        ("evt_session", OrderLines::Take(lines())),
        ("evt_payment", OrderLines::Take(lines())),
        ("evt_charge", OrderLines::Take(lines())),
        (
            "evt_refund_mug",
            OrderLines::Return {
                key: "refund:re_1".into(),
                lines: vec![StockMove::new("MUG", 1)],
            },
        ),
        ("evt_refunded", OrderLines::ReturnAll),
    ]
}

#[tokio::test]
async fn an_order_takes_stock_once_and_gets_it_back_once_across_two_replicas_on_every_backend() {
    for (backend, store, guard) in crate::helpers::backends().await {
        let replica = herald::store::Store::connect(guard.settings())
            .await
            .expect("second replica");
        // The announcements race on two replicas, each delivered twice.
        let mut tasks = tokio::task::JoinSet::new();
        for (n, (event, lines)) in order_story().into_iter().take(3).enumerate() {
            for store in [store.clone(), replica.clone()] {
                let lines = lines.clone();
                tasks.spawn(async move {
                    let key = format!("job:{n}");
                    store.apply_to_order("O1", &key, event, &lines).await
                });
            }
        }
        let mut moved = 0;
        while let Some(done) = tasks.join_next().await {
            match done.expect("task").expect("applied") {
                OrderApplied::Moved(lines) => moved += usize::from(!lines.is_empty()),
                OrderApplied::Already { .. } => {}
            }
        }
        assert_eq!(moved, 1, "{backend}: one announcement took the stock");
        let levels = store.levels(None).await.expect("levels");
        assert_eq!(
            levels,
            [("MUG".to_owned(), -1), ("TEE".to_owned(), -2)],
            "{backend}"
        );

        // Refunds in every order, and twice each, end with everything back once.
        let story = order_story();
        let refunds = &story[3..];
        for first in [0, 1] {
            let order = format!("O-refunds-first-{first}");
            let sequence = [
                &refunds[first],
                &refunds[1 - first],
                &story[0],
                &refunds[first],
            ];
            for (event, lines) in sequence {
                replica
                    .apply_to_order(&order, event, event, lines)
                    .await
                    .expect("applied");
            }
        }
        for (event, lines) in refunds {
            store
                .apply_to_order("O1", event, event, lines)
                .await
                .expect("applied");
            store
                .apply_to_order("O1", event, event, lines)
                .await
                .expect("again");
        }
        assert_eq!(
            store.levels(None).await.expect("levels"),
            [("MUG".to_owned(), 0), ("TEE".to_owned(), 0)],
            "{backend}: O1 back to where it started, the refund-first orders never took"
        );
    }
}

#[tokio::test]
async fn a_level_the_old_arithmetic_turned_real_is_clamped_by_the_migration() {
    use sqlx::migrate::Migrator;
    use sqlx::{Connection, Executor};

    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("herald.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    // The schema as it was before the integer checks.
    let mut migrator = Migrator::new(crate::helpers::repo().join("migrations/sqlite"))
        .await
        .expect("migrations");
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 20_261_202_000_059)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
    migrator.run(&mut conn).await.expect("old migrations");
    conn.execute(
        "INSERT INTO stock_levels VALUES ('SKU-A', 9223372036854775807, 1);
         UPDATE stock_levels SET quantity = quantity + 10;",
    )
    .await
    .expect("the old overflow");
    conn.close().await.expect("closed");

    let settings = herald::config::DatabaseSettings {
        url: secrecy::SecretString::from(url.clone()),
        display: url,
    };
    let store = herald::store::Store::connect(&settings)
        .await
        .expect("the new migrations run");
    assert_eq!(
        store.levels(None).await.expect("levels read again"),
        [("SKU-A".to_owned(), i64::MAX)]
    );
}
