//! Query plans of the SQLite store's hot statements.

use super::*;
use crate::store::admin::dead_letters_sql;
use crate::store::rows::JobSummaryRow;
use crate::store::sql::{Conn, Dialect, Run};
use crate::store::{JobFilter, JobSummary};

/// A store on a file with `pending`, `delivered` and `dead` jobs, 1,000 of each.
async fn store_with_jobs() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::TempDir::new().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("herald.db").display());
    let store = SqliteStore::connect(&url, "test", "test".into())
        .await
        .expect("connect");
    sqlx::raw_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO events (source, event_id, kind, created, livemode, normalized,
                             payload, received_at)
         SELECT 'stripe', 'evt_' || i, 'charge.refunded', i, 0, '{}', '{}', i FROM n;
         INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                           status, run_at, dead_at, queued_at, created_at, updated_at)
         SELECT pk, 'r', 0, 'p', '{}', 'k' || pk,
                CASE pk % 3 WHEN 0 THEN 'pending' WHEN 1 THEN 'delivered' ELSE 'dead' END,
                pk, CASE pk % 3 WHEN 2 THEN pk END, pk, pk, pk
         FROM events;
         ANALYZE;",
    )
    .execute(&mut *store.writer.lossy().await.expect("writer"))
    .await
    .expect("jobs");
    (dir, store)
}

/// The steps of a query plan's rows, one per line.
fn steps(rows: Vec<(i64, i64, i64, String)>) -> String {
    let steps: Vec<String> = rows.into_iter().map(|(_, _, _, step)| step).collect();
    steps.join("\n")
}

#[tokio::test]
async fn a_claim_walks_the_pending_jobs_index_in_order() {
    let (_dir, store) = store_with_jobs().await;
    let claim = crate::store::claim::claim_sql(Dialect::Sqlite);
    let plan = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {claim}"))
        .bind(10_000_i64)
        .bind(5_000_i64)
        .bind(32_i64)
        .bind("[\"q\"]")
        .fetch_all(&mut *store.writer.lossy().await.expect("writer"))
        .await
        .map(steps)
        .expect("plan");
    assert!(plan.contains("USING INDEX jobs_due"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

#[tokio::test]
async fn the_dead_letters_walk_the_dead_jobs_index_in_order() {
    let (_dir, store) = store_with_jobs().await;
    let query = dead_letters_sql(Dialect::Sqlite, &JobFilter::default(), 50);
    let plan = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", query.text()))
        .bind(50_i64)
        .fetch_all(&store.pool)
        .await
        .map(steps)
        .expect("plan");
    assert!(plan.contains("USING INDEX jobs_dead"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    let first = dead_letters_sql(Dialect::Sqlite, &JobFilter::default(), 3);
    let mut reader = Conn::SqliteRead(store.pool.acquire().await.expect("reader"));
    let dead: Vec<JobSummaryRow> = reader.fetch_all(&first).await.expect("dead letters");
    let ids: Vec<i64> = dead
        .into_iter()
        .map(|row| JobSummary::from(row).id)
        .collect();
    assert_eq!(ids, [2, 5, 8]);
}
