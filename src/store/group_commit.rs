//! Group commit: writes from concurrent callers share one transaction, and so one
//! fsync, while each caller still waits until its own write has committed.
//!
//! A single task owns the writing. It takes the first queued write, then whatever
//! else queued meanwhile (up to a limit), and commits them together. Under heavy
//! load writes pile up during each commit and the next batch is bigger, so the cost
//! of a transaction and its fsync is spread over more of them. In between, at a
//! steady rate of a few thousand a second, each batch would hold one or two writes,
//! and a transaction of one costs nearly as much as one of ten; a writer given a
//! [`Linger`] then lets a small batch wait a moment for the writes it can expect.
//! If a batch fails, its writes are retried one transaction each, so one bad write
//! fails alone.
//!
//! A writer whose commit returns before its fsync (SQLite's, see `wal_sync`) says
//! so through [`BatchWriter::durable`]: the batch's callers then wait for that on
//! a task of their own, and the next batch is written during the fsync.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::error::{Result, StoreError};

/// Writes of one kind, as a backend commits them.
#[async_trait]
pub trait BatchWriter<T: Send + Sync + 'static>: Send + Sync + 'static {
    /// What one write comes to.
    type Output: Send + 'static;

    /// Commits all of `items` in one transaction, or none of them.
    async fn write_batch(&self, items: &[T]) -> Result<Vec<Self::Output>>;

    /// Waits until every batch committed so far survives a power loss, for a
    /// writer whose commit returns before its fsync. Callers hear back only after
    /// it, while the next batch is already being written.
    async fn durable(&self) -> Result<()> {
        Ok(())
    }

    /// Commits `item` alone, after its batch failed.
    async fn write_one(&self, item: &T) -> Result<Self::Output> {
        let mut outputs = self.write_batch(std::slice::from_ref(item)).await?;
        outputs
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a batch of one wrote nothing".to_owned()))
    }
}

/// When a small batch waits for more writes before it is written.
///
/// Only a batch smaller than `enough` waits, and only when writes have been
/// arriving fast enough that at least one more can be expected within `max`: a
/// fixed set of busy callers already fills each batch, and waiting would only
/// delay them, while a trickle would wait for nothing.
#[derive(Clone, Copy, Debug)]
pub struct Linger {
    /// A batch of this many writes or more is written at once.
    pub enough: usize,
    /// The longest a batch waits. The writer's timer counts whole milliseconds,
    /// so a wait of 1 ms lasts 1 to 2 ms.
    pub max: Duration,
}

/// How long the arrival rate is counted over before it is estimated again.
const RATE_WINDOW: Duration = Duration::from_millis(20);

/// Writes taken per second, counted over windows of [`RATE_WINDOW`].
struct ArrivalRate {
    per_sec: f64,
    since: Instant,
    taken: usize,
}

impl ArrivalRate {
    fn new() -> Self {
        Self {
            per_sec: 0.0,
            since: Instant::now(),
            taken: 0,
        }
    }

    /// Counts `n` writes taken now.
    fn taken(&mut self, n: usize) {
        self.taken += n;
        let elapsed = self.since.elapsed();
        if elapsed >= RATE_WINDOW {
            self.per_sec = self.taken as f64 / elapsed.as_secs_f64();
            self.since = Instant::now();
            self.taken = 0;
        }
    }

    /// How long a batch of `size` waits under `linger`; zero if it should not.
    fn wait(&self, size: usize, linger: Linger) -> Duration {
        let missing = linger.enough.saturating_sub(size);
        if missing == 0 || self.per_sec * linger.max.as_secs_f64() < 1.0 {
            return Duration::ZERO;
        }
        linger
            .max
            .min(Duration::from_secs_f64(missing as f64 / self.per_sec))
    }
}

/// A queued write and the caller waiting for it.
struct Pending<T, O> {
    item: T,
    reply: oneshot::Sender<Result<O>>,
    queued: Instant,
}

/// The handle callers submit writes through; cheap to clone.
pub struct GroupCommit<T, O> {
    queue: mpsc::Sender<Pending<T, O>>,
}

impl<T, O> Clone for GroupCommit<T, O> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<T: Send + Sync + 'static, O: Send + 'static> GroupCommit<T, O> {
    /// Starts the writer on a thread of its own, named `name`; it ends when the
    /// last handle is dropped.
    ///
    /// Its own thread, because a batch is several round trips to the database and
    /// each one wakes the writer again. On the shared runtime every wake-up queued
    /// behind the HTTP handlers: under load one batch took 4 to 8 ms, nearly all
    /// of it waiting to be polled.
    pub fn spawn<W: BatchWriter<T, Output = O>>(name: &str, writer: W, max_batch: usize) -> Self {
        Self::spawn_lingering(name, writer, max_batch, None)
    }

    /// Like [`GroupCommit::spawn`], with small batches waiting as `linger` says.
    pub fn spawn_lingering<W: BatchWriter<T, Output = O>>(
        name: &str,
        writer: W,
        max_batch: usize,
        linger: Option<Linger>,
    ) -> Self {
        let max_batch = max_batch.max(1);
        // Bounded, so a database slower than the callers pushes back on them.
        let (queue, receiver) = mpsc::channel(max_batch * 4);
        let name: Arc<str> = Arc::from(name);
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => {
                        runtime.block_on(run(name, writer, receiver, max_batch, linger));
                    }
                    // Dropping the receiver makes every submit fail with WriterStopped.
                    Err(err) => tracing::error!(error = %err, "cannot start the database writer"),
                }
            });
        if let Err(err) = thread {
            tracing::error!(error = %err, "cannot start the database writer thread");
        }
        Self { queue }
    }

    /// Queues `item` and waits until it has committed (or failed).
    ///
    /// # Errors
    /// The write's own error, or [`StoreError::WriterStopped`].
    pub async fn submit(&self, item: T) -> Result<O> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending {
                item,
                reply,
                queued: Instant::now(),
            })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run<T, W>(
    name: Arc<str>,
    writer: W,
    mut receiver: mpsc::Receiver<Pending<T, W::Output>>,
    max_batch: usize,
    linger: Option<Linger>,
) where
    T: Send + Sync + 'static,
    W: BatchWriter<T>,
{
    let writer = Arc::new(writer);
    // Batches whose callers wait for durability while the next batch is written.
    let mut settling = JoinSet::new();
    let mut batch = Vec::with_capacity(max_batch);
    let mut rate = ArrivalRate::new();
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        rate.taken(batch.len());
        if let Some(linger) = linger {
            let wait = rate.wait(batch.len(), linger);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
                let before = batch.len();
                // Not `recv_many`, which would wait for one more if none came.
                while batch.len() < max_batch {
                    match receiver.try_recv() {
                        Ok(pending) => batch.push(pending),
                        Err(_) => break,
                    }
                }
                rate.taken(batch.len() - before);
            }
        }
        let started = Instant::now();
        let oldest = batch.first().map_or(started, |p| p.queued);
        let (items, replies): (Vec<T>, Vec<_>) = batch.drain(..).map(|p| (p.item, p.reply)).unzip();
        let results = write(&*writer, &items).await;
        let written = Instant::now();
        let writer = Arc::clone(&writer);
        let name = Arc::clone(&name);
        settling.spawn(async move {
            let durable = if results.iter().any(Result::is_ok) {
                writer.durable().await.map_err(|err| err.to_string())
            } else {
                Ok(())
            };
            // Where a slow acknowledgement spent its time, batch by batch, for
            // `RUST_LOG=herald::store::group_commit=debug`.
            tracing::debug!(
                writer = %name,
                size = replies.len(),
                queued_us = started.duration_since(oldest).as_micros(),
                write_us = written.duration_since(started).as_micros(),
                durable_us = written.elapsed().as_micros(),
                "batch"
            );
            for (reply, result) in replies.into_iter().zip(results) {
                let result = match (&durable, result) {
                    (Err(err), Ok(_)) => Err(StoreError::NotDurable(err.clone())),
                    (_, result) => result,
                };
                // A caller that gave up no longer listens; its write stands.
                let _ = reply.send(result);
            }
        });
        // Let the new task start (send its replies, or ask for durability) before
        // the next batch. A writer that never awaits (the fsync thread) would
        // otherwise hold every reply until its queue ran dry: at 2,000 events/s
        // that chained a dozen fsyncs into one caller's wait.
        tokio::task::yield_now().await;
        while settling.try_join_next().is_some() {}
    }
    // Every caller hears back before the writer stops.
    while settling.join_next().await.is_some() {}
}

/// Commits `items` together, or one by one if that fails; one result each.
async fn write<T, W>(writer: &W, items: &[T]) -> Vec<Result<W::Output>>
where
    T: Send + Sync + 'static,
    W: BatchWriter<T>,
{
    match writer.write_batch(items).await {
        Ok(outputs) if outputs.len() == items.len() => outputs.into_iter().map(Ok).collect(),
        Err(err) if items.len() == 1 => vec![Err(err)],
        _ => {
            let mut results = Vec::with_capacity(items.len());
            for item in items {
                results.push(writer.write_one(item).await);
            }
            results
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    /// Doubles numbers, refuses 13, and counts its transactions.
    struct Doubler {
        batches: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl BatchWriter<u32> for Doubler {
        type Output = u32;

        async fn write_batch(&self, items: &[u32]) -> Result<Vec<u32>> {
            self.batches.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            if items.contains(&13) {
                return Err(StoreError::Corrupt("13".to_owned()));
            }
            Ok(items.iter().map(|n| n * 2).collect())
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

        async fn write_batch(&self, items: &[u32]) -> Result<Vec<u32>> {
            self.sizes.lock().expect("sizes").push(items.len());
            Ok(items.to_vec())
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
        let mut rate = ArrivalRate::new();
        rate.taken(5);
        assert_eq!(rate.per_sec, 0.0, "no estimate before a window has passed");
        std::thread::sleep(RATE_WINDOW * 2);
        rate.taken(1);
        // Six over at least 40 ms: well under the 200/s a 5 ms wait would need.
        assert!(
            rate.per_sec > 0.0 && rate.per_sec <= 150.0,
            "{}",
            rate.per_sec
        );
    }

    /// Commits at once; durability comes when the test says so, or never.
    struct SlowDisk {
        written: Arc<AtomicUsize>,
        synced: Arc<tokio::sync::Semaphore>,
        fails: bool,
    }

    #[async_trait]
    impl BatchWriter<u32> for SlowDisk {
        type Output = u32;

        async fn write_batch(&self, items: &[u32]) -> Result<Vec<u32>> {
            self.written.fetch_add(items.len(), Ordering::SeqCst);
            Ok(items.to_vec())
        }

        async fn durable(&self) -> Result<()> {
            let permit = self.synced.acquire().await;
            drop(permit);
            if self.fails {
                return Err(StoreError::NotDurable("disk on fire".to_owned()));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn callers_wait_for_durability_while_the_next_batch_is_written() {
        let written = Arc::new(AtomicUsize::new(0));
        let synced = Arc::new(tokio::sync::Semaphore::new(0));
        let group = GroupCommit::spawn(
            "test-writer",
            SlowDisk {
                written: written.clone(),
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
        while written.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        // … and neither caller has heard back.
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

        async fn write_batch(&self, items: &[u32]) -> Result<Vec<u32>> {
            std::thread::sleep(std::time::Duration::from_millis(150));
            if let Ok(mut log) = self.log.lock() {
                log.push(format!("wrote {items:?}"));
            }
            Ok(items.to_vec())
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
}
