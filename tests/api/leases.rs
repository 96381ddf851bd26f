//! Leases that follow the worker: renewed while a delivery runs, taken back at
//! once when herald restarts on SQLite, and from a replica whose heartbeat
//! stopped on PostgreSQL. Store-level cases pass times explicitly; the end-to-end
//! one waits for states, never for an absence.

use std::time::Duration;

use herald::store::AttemptOutcome::{Delivered, RetryAt};
use herald::store::{JobStatus, Store};
use herald_testkit::HttpSink;

use crate::helpers::{backends, base_config_with_dispatch, fixture_with_id, spawn_app_with};
use crate::store::{later, ok, Db, LEASE, NONE};

/// A second store on the database of `guard`: another process, as a restarted
/// herald or another replica would be.
async fn another(name: &str, guard: &crate::helpers::Guard) -> Store {
    ok(name, "connect", Store::connect(guard.settings()).await)
}

#[tokio::test]
async fn a_heartbeat_renews_the_leases_of_the_jobs_in_flight_only() {
    for (name, store, _guard) in backends().await {
        let db = Db::new(name, &store);
        let (_, ids) = db.ingest("evt_1", &[("r", "a"), ("r", "b")]).await;
        let now = later();
        assert_eq!(db.claim_ids(now, 10).await, ids, "{name}");
        ok(name, "start", store.start_instance(now, LEASE).await);

        // Just before the leases end, one job is still being delivered.
        let at = now + LEASE - 1;
        let renewed = ok(
            name,
            "heartbeat",
            store.heartbeat(at, LEASE, &[ids[0]]).await,
        );
        assert_eq!(renewed, 1, "{name}");
        // The other's lease ran out; the delivering one's runs a lease from the beat.
        assert_eq!(db.claim_ids(now + LEASE, 10).await, [ids[1]], "{name}");
        assert_eq!(db.claim_ids(at + LEASE - 1, 10).await, NONE, "{name}");

        // Its attempt recorded, a job is no longer this instance's to renew.
        db.record(ids[0], 1, Delivered, at + 10).await;
        let renewed = ok(
            name,
            "heartbeat",
            store.heartbeat(at + 20, LEASE, &[ids[0]]).await,
        );
        assert_eq!(renewed, 0, "{name}: delivered, not leased");
        db.assert_state(ids[0], JobStatus::Delivered, 1, None).await;
    }
}

#[tokio::test]
async fn a_restart_on_sqlite_takes_back_every_lease_at_once() {
    for (name, first, guard) in backends().await {
        let db = Db::new(name, &first);
        let (_, ids) = db.ingest("evt_1", &[("r", "hook")]).await;
        let now = later();
        ok(name, "start", first.start_instance(now, LEASE).await);
        assert_eq!(db.claim_ids(now, 10).await, ids, "{name}");

        // The first herald is killed; another starts on the same database.
        let second = another(name, &guard).await;
        assert_ne!(first.instance(), second.instance(), "{name}");
        let taken = ok(name, "start", second.start_instance(now + 1, LEASE).await);
        let again = ok(
            name,
            "claim",
            second.claim_due(now + 1, LEASE, 10, &[]).await,
        );
        if name == "sqlite" {
            // One herald serves a SQLite file: whoever held the lease is gone.
            assert_eq!(taken, 1, "{name}");
            let claimed: Vec<(i64, u32)> = again.iter().map(|job| (job.id, job.attempt)).collect();
            assert_eq!(claimed, [(ids[0], 2)], "{name}: due at once");

            // The first one's late record cannot move the job under the second.
            db.record(ids[0], 1, RetryAt(now + 99_000), now + 2).await;
            ok(name, "defer", first.defer(ids[0], 1, now + 99_000).await);
            db.assert_state(ids[0], JobStatus::Pending, 2, None).await;
            let record = herald::store::AttemptRecord {
                plugin: "test".to_owned(),
                started_at_ms: now + 1,
                finished_at_ms: now + 3,
                outcome: Delivered,
                error: None,
            };
            let recorded = second.record_attempt(ids[0], 2, &record).await;
            ok(name, "record", recorded);
            db.assert_state(ids[0], JobStatus::Delivered, 2, None).await;
            db.assert_attempts(ids[0], &[(1, "retry"), (2, "delivered")])
                .await;
        } else {
            // A PostgreSQL replica starting leaves a live replica's leases alone.
            assert_eq!((taken, again.len()), (0, 0), "{name}");
        }
    }
}

#[tokio::test]
async fn a_replica_takes_back_the_jobs_of_one_whose_heartbeat_stopped_only() {
    for (name, live, guard) in backends().await {
        if name == "sqlite" {
            // One process serves a SQLite file; the restart case covers it.
            continue;
        }
        let db = Db::new(name, &live);
        let (_, ids) = db.ingest("evt_1", &[("r", "a"), ("r", "b")]).await;
        let now = later();
        let dead = another(name, &guard).await;
        let survivor = another(name, &guard).await;
        for store in [&live, &dead, &survivor] {
            ok(name, "start", store.start_instance(now, LEASE).await);
        }
        let mine = |store: &Store| {
            let store = store.clone();
            async move { ok(name, "claim", store.claim_due(now, LEASE, 1, &[]).await) }
        };
        assert_eq!(mine(&live).await[0].id, ids[0], "{name}");
        assert_eq!(mine(&dead).await[0].id, ids[1], "{name}");

        // `live` beats on; `dead` stopped at `now`. Within a lease nobody is stale.
        let beat = now + LEASE / 2;
        ok(
            name,
            "heartbeat",
            live.heartbeat(beat, LEASE, &[ids[0]]).await,
        );
        ok(
            name,
            "heartbeat",
            survivor.heartbeat(beat, LEASE, &[]).await,
        );
        let early = ok(
            name,
            "take back",
            survivor.take_back_stale(beat, LEASE).await,
        );
        assert_eq!(early, 0, "{name}: silent for less than a lease");

        // A lease after its last beat, `dead` is stale, and only its job comes back,
        // well before its lease would have run out by itself (a longer one here).
        let late = now + LEASE + 1;
        ok(
            name,
            "heartbeat",
            live.heartbeat(late, 10 * LEASE, &[ids[0]]).await,
        );
        ok(
            name,
            "heartbeat",
            dead.heartbeat(now, 10 * LEASE, &[ids[1]]).await,
        );
        let taken = ok(
            name,
            "take back",
            survivor.take_back_stale(late, LEASE).await,
        );
        assert_eq!(taken, 1, "{name}");
        let again = ok(
            name,
            "claim",
            survivor.claim_due(late, LEASE, 10, &[]).await,
        );
        let claimed: Vec<(i64, u32)> = again.iter().map(|job| (job.id, job.attempt)).collect();
        assert_eq!(claimed, [(ids[1], 2)], "{name}: the dead one's job only");
        // Another replica finds nothing more to take back.
        let twice = ok(name, "take back", live.take_back_stale(late, LEASE).await);
        assert_eq!(twice, 0, "{name}");

        // A replica that stops cleanly gives its leases back at once.
        let released = ok(name, "stop", live.stop_instance().await);
        assert_eq!(released, 1, "{name}");
        let freed = ok(
            name,
            "claim",
            survivor.claim_due(late, LEASE, 10, &[]).await,
        );
        assert_eq!(freed.len(), 1, "{name}");
        assert_eq!(freed[0].id, ids[0], "{name}");
    }
}

/// A delivery that takes several leases is still claimed once: the heartbeat
/// renews its lease while the dispatcher keeps polling for due jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_longer_than_the_lease_is_not_claimed_twice() {
    let sink = HttpSink::start().await;
    // Three leases long: without renewal the job would be claimed again twice.
    sink.set_delay(Duration::from_secs(3));
    let config = format!(
        r#"{base}
[plugins.webhook.sink]
url = "{url}"
timeout_secs = 30

[[rules]]
name = "notify"
on = ["*"]
actions = [{{ plugin = "sink" }}]
"#,
        base = base_config_with_dispatch("lease_secs = 1\npoll_interval_ms = 20"),
        url = sink.url()
    );
    let app = spawn_app_with(&config).await;
    let body = fixture_with_id("payment_intent.succeeded", "evt_slow");
    assert_eq!(app.post_webhook(&body).await.status(), 200);

    // Wait for the state: the slow delivery answered, and its attempt recorded.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let job = loop {
        let jobs = app.store.jobs_for_event("stripe", "evt_slow").await;
        let jobs = jobs.expect("jobs");
        if jobs.len() == 1 && jobs[0].status != JobStatus::Pending {
            break jobs[0].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{jobs:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(job.status, JobStatus::Delivered, "{job:?}");
    assert_eq!(job.attempts, 1, "claimed more than once: {job:?}");
    // Nothing is due any more, so no second request can still be coming: the
    // one the sink received is all there is.
    assert_eq!(sink.received().len(), 1, "{:?}", sink.received());
    assert_eq!(
        app.metrics.get(
            "herald_deliveries_total",
            &[("plugin", "sink"), ("outcome", "delivered")]
        ),
        1
    );
}
