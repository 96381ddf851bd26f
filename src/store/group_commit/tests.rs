//! The group commit with writers that stand in for a database.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::linger::RATE_WINDOW;
use super::*;

/// Doubles numbers, refuses 13, and counts its transactions.
struct Doubler {
    batches: Arc<AtomicUsize>,
}

#[async_trait]
impl BatchWriter<u32> for Doubler {
    type Output = u32;

    async fn write_batch(&self, items: &[u32]) -> Result<Committed<u32>> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        if items.contains(&13) {
            return Err(StoreError::Corrupt("13".to_owned()));
        }
        Ok(Committed::now(items.iter().map(|n| n * 2).collect()))
    }
}

#[tokio::test]
async fn concurrent_writes_share_transactions_and_each_gets_its_own_answer() {
    let batches = Arc::new(AtomicUsize::new(0));
    let group = GroupCommit::spawn(
        "test-writer",
        Doubler {
            batches: batches.clone(),
        },
        64,
    );
    let calls: Vec<_> = (0..200u32)
        .map(|n| {
            let group = group.clone();
            tokio::spawn(async move { (n, group.submit(n).await) })
        })
        .collect();
    for call in calls {
        let (n, result) = call.await.expect("task");
        match result {
            Ok(doubled) => assert_eq!(doubled, n * 2),
            Err(err) => assert_eq!(n, 13, "only 13 fails, not {n}: {err}"),
        }
    }
    let transactions = batches.load(Ordering::SeqCst);
    assert!(
        transactions < 200,
        "{transactions} transactions for 200 writes"
    );
}

#[tokio::test]
async fn a_failing_write_fails_alone() {
    let group = GroupCommit::spawn(
        "test-writer",
        Doubler {
            batches: Arc::new(AtomicUsize::new(0)),
        },
        8,
    );
    let (a, b, c) = tokio::join!(group.submit(12), group.submit(13), group.submit(14));
    assert_eq!(a.expect("12"), 24);
    assert!(b.is_err());
    assert_eq!(c.expect("14"), 28);
}

/// Records the size of every batch it commits.
struct Sizes {
    sizes: Arc<std::sync::Mutex<Vec<usize>>>,
}

#[async_trait]
impl BatchWriter<u32> for Sizes {
    type Output = u32;

    async fn write_batch(&self, items: &[u32]) -> Result<Committed<u32>> {
        self.sizes.lock().expect("sizes").push(items.len());
        Ok(Committed::now(items.to_vec()))
    }
}

#[tokio::test]
async fn a_lingering_writer_answers_every_write_within_its_batch_limit() {
    let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let linger = Linger {
        enough: 8,
        max: std::time::Duration::from_millis(5),
    };
    let group = GroupCommit::spawn_lingering(
        "test-writer",
        Sizes {
            sizes: sizes.clone(),
        },
        4,
        Some(linger),
    );
    // Waves of writes, so that the writer sees a rate worth waiting for.
    for wave in 0..20u32 {
        let calls: Vec<_> = (0..10u32)
            .map(|n| {
                let group = group.clone();
                let n = wave * 10 + n;
                tokio::spawn(async move { (n, group.submit(n).await) })
            })
            .collect();
        for call in calls {
            let (n, result) = call.await.expect("task");
            assert_eq!(result.expect("answer"), n);
        }
    }
    let sizes = sizes.lock().expect("sizes").clone();
    assert_eq!(sizes.iter().sum::<usize>(), 200);
    assert!(sizes.iter().all(|&size| size <= 4), "{sizes:?}");
}

#[test]
fn only_a_small_batch_waits_and_only_for_writes_it_can_expect() {
    let linger = Linger {
        enough: 8,
        max: Duration::from_millis(1),
    };
    let at = |per_sec: f64| ArrivalRate {
        per_sec,
        since: Instant::now(),
        taken: 0,
    };
    // Enough already: written at once, whatever the rate.
    assert_eq!(at(100_000.0).wait(8, linger), Duration::ZERO);
    // Fewer than one more expected within 1 ms: waiting would gain nothing.
    assert_eq!(at(900.0).wait(1, linger), Duration::ZERO);
    // At 2,000/s the 7 missing would take 3.5 ms: the wait stops at 1 ms.
    assert_eq!(at(2_000.0).wait(1, linger), linger.max);
    // At 10,000/s the 2 missing come within 0.2 ms.
    assert_eq!(at(10_000.0).wait(6, linger), Duration::from_micros(200));
}

#[test]
fn the_rate_is_counted_over_a_window_and_falls_after_a_pause() {
    let start = Instant::now();
    let mut rate = ArrivalRate::new(start);
    rate.taken(5, start + RATE_WINDOW / 2);
    assert_eq!(rate.per_sec, 0.0, "no estimate before a window has passed");
    rate.taken(1, start + RATE_WINDOW * 2);
    // Six over 40 ms: well under the 200/s a 5 ms wait would need.
    assert!((rate.per_sec - 150.0).abs() < 1e-6, "{}", rate.per_sec);
    // A window with nothing taken brings the estimate down to nothing.
    rate.taken(0, start + RATE_WINDOW * 4);
    assert_eq!(rate.per_sec, 0.0);
}

/// Commits at once; durability comes when the test says so, or never.
struct SlowDisk {
    written: Arc<AtomicUsize>,
    /// Batches whose callers wait for their sync.
    syncing: Arc<AtomicUsize>,
    synced: Arc<tokio::sync::Semaphore>,
    fails: bool,
}

#[async_trait]
impl BatchWriter<u32> for SlowDisk {
    type Output = u32;

    async fn write_batch(&self, items: &[u32]) -> Result<Committed<u32>> {
        self.written.fetch_add(items.len(), Ordering::SeqCst);
        let (syncing, synced, fails) = (self.syncing.clone(), self.synced.clone(), self.fails);
        Ok(Committed::then(items.to_vec(), async move {
            syncing.fetch_add(1, Ordering::SeqCst);
            let permit = synced.acquire().await;
            drop(permit);
            if fails {
                return Err(StoreError::NotDurable("disk on fire".to_owned()));
            }
            Ok(())
        }))
    }
}

#[tokio::test]
async fn callers_wait_for_durability_while_the_next_batch_is_written() {
    let written = Arc::new(AtomicUsize::new(0));
    let syncing = Arc::new(AtomicUsize::new(0));
    let synced = Arc::new(tokio::sync::Semaphore::new(0));
    let group = GroupCommit::spawn(
        "test-writer",
        SlowDisk {
            written: written.clone(),
            syncing: syncing.clone(),
            synced: synced.clone(),
            fails: false,
        },
        8,
    );
    let first = tokio::spawn({
        let group = group.clone();
        async move { group.submit(1).await }
    });
    while written.load(Ordering::SeqCst) < 1 {
        tokio::task::yield_now().await;
    }
    let second = tokio::spawn({
        let group = group.clone();
        async move { group.submit(2).await }
    });
    // The second write commits though the first is not yet durable …
    while written.load(Ordering::SeqCst) < 2 || syncing.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    // … and neither caller has heard back: both batches wait for their sync.
    assert!(!first.is_finished() && !second.is_finished());
    synced.add_permits(2);
    assert_eq!(first.await.expect("task").expect("first"), 1);
    assert_eq!(second.await.expect("task").expect("second"), 2);
}

#[tokio::test]
async fn a_failed_sync_fails_the_callers_whose_writes_it_covered() {
    let synced = Arc::new(tokio::sync::Semaphore::new(8));
    let group = GroupCommit::spawn(
        "test-writer",
        SlowDisk {
            written: Arc::new(AtomicUsize::new(0)),
            syncing: Arc::new(AtomicUsize::new(0)),
            synced,
            fails: true,
        },
        8,
    );
    let (a, b) = tokio::join!(group.submit(1), group.submit(2));
    assert!(matches!(a, Err(StoreError::NotDurable(_))), "{a:?}");
    assert!(matches!(b, Err(StoreError::NotDurable(_))), "{b:?}");
}

/// Blocks its thread for every write, as the fsync thread does, and logs.
struct Blocking {
    log: Arc<std::sync::Mutex<Vec<String>>>,
}

#[async_trait]
impl BatchWriter<u32> for Blocking {
    type Output = u32;

    async fn write_batch(&self, items: &[u32]) -> Result<Committed<u32>> {
        std::thread::sleep(std::time::Duration::from_millis(150));
        if let Ok(mut log) = self.log.lock() {
            log.push(format!("wrote {items:?}"));
        }
        Ok(Committed::now(items.to_vec()))
    }
}

#[tokio::test]
async fn a_writer_that_never_yields_still_answers_each_batch_when_written() {
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let group = GroupCommit::spawn("test-writer", Blocking { log: log.clone() }, 8);
    let first = tokio::spawn({
        let (group, log) = (group.clone(), log.clone());
        async move {
            let answer = group.submit(1).await;
            log.lock().expect("log").push("answered 1".to_owned());
            answer
        }
    });
    // Queued while the first write blocks the writer's thread.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let second = group.submit(2).await;
    assert_eq!(first.await.expect("task").expect("first"), 1);
    assert_eq!(second.expect("second"), 2);
    let log = log.lock().expect("log").clone();
    assert_eq!(log, ["wrote [1]", "answered 1", "wrote [2]"]);
}

/// A database that cannot be reached: every batch fails for its own sake.
struct Unreachable {
    tried: Arc<AtomicUsize>,
}

#[async_trait]
impl BatchWriter<u32> for Unreachable {
    type Output = u32;

    async fn write_batch(&self, items: &[u32]) -> Result<Committed<u32>> {
        self.tried.fetch_add(items.len(), Ordering::SeqCst);
        tokio::task::yield_now().await;
        Err(StoreError::Database(sqlx::Error::PoolTimedOut))
    }
}

/// Each write tried once: retrying them one by one cost each caller another pool
/// timeout, so a webhook waited out the request timeout instead of getting its 503.
#[tokio::test]
async fn a_batch_the_database_refuses_is_not_tried_again_write_by_write() {
    let tried = Arc::new(AtomicUsize::new(0));
    let group = GroupCommit::spawn(
        "test-writer",
        Unreachable {
            tried: tried.clone(),
        },
        8,
    );
    let (a, b, c) = tokio::join!(group.submit(1), group.submit(2), group.submit(3));
    for result in [a, b, c] {
        let err = result.expect_err("unreachable");
        assert!(err.to_string().contains("pool timed out"), "{err}");
    }
    assert_eq!(tried.load(Ordering::SeqCst), 3);
}
