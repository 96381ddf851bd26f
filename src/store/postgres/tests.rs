//! The PostgreSQL store against a server of its own: session settings, batch
//! writes, and the plans of the hot statements.

use sqlx::{Connection, Executor, PgConnection};

use super::*;
use crate::store::group_commit::{BatchWriter, Committed};

/// `SHOW synchronous_commit` on a connection of `pool`.
async fn synchronous_commit(pool: &PgPool) -> String {
    sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(pool)
        .await
        .expect("SHOW synchronous_commit")
}

/// A fresh database on the test server (`None`, skipped, without one), and
/// the admin connection that drops it.
async fn fresh_database(settings: &str) -> Option<(PgConnection, String, String)> {
    let Some(admin) = std::env::var("HERALD_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "HERALD_TEST_DATABASE_URL is not set: run ./scripts/test"
        );
        eprintln!("HERALD_TEST_DATABASE_URL is not set: PostgreSQL case skipped");
        return None;
    };
    let name = format!("herald_unit_{:016x}", rand::random::<u64>());
    let mut conn = PgConnection::connect(&admin).await.expect("admin");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create");
    if !settings.is_empty() {
        conn.execute(format!("ALTER DATABASE {name} SET {settings}").as_str())
            .await
            .expect("alter");
    }
    let (prefix, _) = admin.rsplit_once('/').expect("a URL ending in /db");
    Some((conn, name.clone(), format!("{prefix}/{name}")))
}

async fn drop_database(mut conn: PgConnection, store: PostgresStore, name: &str) {
    store.pool.close().await;
    store.bookkeeping.close().await;
    drop(store);
    conn.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .expect("drop");
}

/// The plans `sql` gets on a bookkeeping session for `args` (SQL literals),
/// custom and generic, one line per node.
async fn plans(store: &PostgresStore, sql: &str, args: &str) -> Vec<String> {
    let mut session = store.bookkeeping.acquire().await.expect("a session");
    sqlx::raw_sql(&format!("PREPARE probe AS {sql}"))
        .execute(&mut *session)
        .await
        .expect("prepare");
    let mut plans = Vec::new();
    for mode in ["force_custom_plan", "force_generic_plan"] {
        sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}"))
            .execute(&mut *session)
            .await
            .expect("plan_cache_mode");
        let lines: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN EXECUTE probe({args})"))
            .fetch_all(&mut *session)
            .await
            .expect("explain");
        plans.push(format!("{mode}:\n{}", lines.join("\n")));
    }
    // Not back into the pool with a statement and a setting of the test's.
    session.close().await.expect("close");
    plans
}

/// Bookkeeping must not wait for the WAL flush, and ingest must: on a database
/// set to flush every commit, the two pools' sessions differ.
#[tokio::test]
async fn only_bookkeeping_sessions_skip_the_wal_flush() {
    // The test server runs with synchronous_commit off; production's is on.
    let Some((conn, name, url)) = fresh_database("synchronous_commit = on").await else {
        return;
    };
    let store = PostgresStore::connect(&url, "test", "test".into())
        .await
        .expect("connect");
    let settings = (
        synchronous_commit(&store.pool).await,
        synchronous_commit(&store.bookkeeping).await,
    );
    drop_database(conn, store, &name).await;
    assert_eq!(settings, ("on".to_owned(), "off".to_owned()));
}

/// As on SQLite: in one batch, only the first copy of a new event brings jobs.
#[tokio::test]
async fn only_new_first_copies_bring_their_jobs() {
    let Some((conn, name, url)) = fresh_database("").await else {
        return;
    };
    let store = PostgresStore::connect(&url, "test", "test".into())
        .await
        .expect("connect");
    let writer = IngestWriter {
        pool: store.pool.clone(),
        links: RecentLinks::default(),
    };
    let first = writer
        .write_batch(&[NewEvent::sample("evt_old", &["a"])])
        .await
        .map(Committed::into_outputs);
    let (batch, expected) = NewEvent::copies_batch();
    let outcomes = writer
        .write_batch(&batch)
        .await
        .map(Committed::into_outputs);
    let jobs: Vec<(String, String)> = sqlx::query_as(
        "SELECT e.event_id, j.rule FROM jobs j JOIN events e ON e.pk = j.event_pk ORDER BY j.id",
    )
    .fetch_all(&store.pool)
    .await
    .expect("jobs");
    drop_database(conn, store, &name).await;

    assert_eq!(first.expect("first"), [IngestOutcome::Stored { jobs: 1 }]);
    assert_eq!(outcomes.expect("batch"), expected);
    let jobs: Vec<(&str, &str)> = jobs.iter().map(|(e, r)| (e.as_str(), r.as_str())).collect();
    assert_eq!(jobs, [("evt_old", "a"), ("evt_new", "x"), ("evt_new", "y")]);
}

/// A backlog that grew after the statistics were taken (here: never taken)
/// must not make a claim read every pending job, nor an attempt record scan
/// the table: both walk an index, with the plan cached from the start too.
#[tokio::test]
async fn claims_and_attempt_records_walk_an_index_on_stale_statistics() {
    let Some((conn, name, url)) = fresh_database("").await else {
        return;
    };
    let store = PostgresStore::connect(&url, "test", "test".into())
        .await
        .expect("connect");
    sqlx::raw_sql(
        "ALTER TABLE events SET (autovacuum_enabled = false);
         ALTER TABLE jobs SET (autovacuum_enabled = false);
         INSERT INTO events (source, event_id, kind, created, livemode, normalized,
                             payload, received_at)
         SELECT 'stripe', 'evt_' || n, 'charge.refunded', n, false, '{}', '{}', n
         FROM generate_series(1, 20000) AS n;
         INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                           run_at, queued_at, created_at, updated_at)
         SELECT pk, 'r', 0, 'p', '{}', 'k' || pk, pk, pk, pk, pk FROM events;",
    )
    .execute(&store.pool)
    .await
    .expect("a backlog");

    let now = 1_000_000;
    let claim_sql = crate::store::claim::claim_sql(crate::store::sql::Dialect::Postgres);
    let lease = now + 60_000;
    let mut claim = plans(
        &store,
        &claim_sql,
        &format!("{lease}, {now}, 32, '{{}}', 'me'"),
    )
    .await;
    // Skipping a plugin filters the same walk.
    let skip = format!("{lease}, {now}, 32, ARRAY['p'], 'me'");
    claim.extend(plans(&store, &claim_sql, &skip).await);
    let ids = "ARRAY[1, 2, 3]::BIGINT[]";
    let texts = "ARRAY['delivered', 'delivered', 'delivered']";
    let record = plans(
        &store,
        batch_inserts::RECORD_ATTEMPTS_SQL,
        &format!("{ids}, {ids}, {ids}, {ids}, {texts}, {texts}, {texts}, {ids}, 'me', {texts}"),
    )
    .await;
    drop_database(conn, store, &name).await;

    for (what, plan) in claim
        .iter()
        .map(|plan| ("claim", plan))
        .chain(record.iter().map(|plan| ("attempt record", plan)))
    {
        for node in ["Seq Scan", "Bitmap Heap Scan", "Hash Join", "->  Sort "] {
            assert!(!plan.contains(node), "the {what} plans a {node}: {plan}");
        }
    }
}
