//! Group commit: writes from concurrent callers share one transaction, and so one
//! fsync, while each caller still waits until its own write has committed.
//!
//! A single task owns the writing. It takes the first queued write, then whatever
//! else queued meanwhile (up to a limit), and commits them together. Under heavy
//! load writes pile up during each commit and the next batch is bigger, so the cost
//! of a transaction and its fsync is spread over more of them. In between, at a
//! steady moderate rate, each batch would hold one or two writes, and a
//! transaction of one costs nearly as much as one of ten; a writer given a
//! [`Linger`] then lets a small batch wait a moment for the writes it can expect.
//! If a batch fails, its writes are retried one transaction each, so one bad write
//! fails alone.
//!
//! A writer whose commit returns before its fsync (SQLite's, see `wal_sync`) hands
//! back what the batch still waits for with its [`Committed`]: the batch's callers
//! then wait for that on a task of their own, and the next batch is written during
//! the fsync.

mod linger;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use self::linger::ArrivalRate;
pub use self::linger::Linger;
use super::error::{Result, StoreError};
use super::write_health::says_database_is_failing;

/// Resolves once a commit survives a power loss.
type Durable = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

/// What one batch's commit came to: an output per write, and, for a commit that
/// returned before its fsync, what its callers wait for before they hear back.
pub struct Committed<O> {
    outputs: Vec<O>,
    durable: Option<Durable>,
}

impl<O> Committed<O> {
    /// A commit that is as durable as it will be once it returns.
    pub fn now(outputs: Vec<O>) -> Self {
        Self {
            outputs,
            durable: None,
        }
    }

    /// A commit whose callers hear back once `durable` has resolved, while the
    /// next batch is already being written.
    pub fn then(
        outputs: Vec<O>,
        durable: impl Future<Output = Result<()>> + Send + 'static,
    ) -> Self {
        Self {
            outputs,
            durable: Some(Box::pin(durable)),
        }
    }

    /// The outputs, for a test that writes a batch by hand and does not wait.
    #[cfg(test)]
    pub fn into_outputs(self) -> Vec<O> {
        self.outputs
    }
}

/// Writes of one kind, as a backend commits them.
#[async_trait]
pub trait BatchWriter<T: Send + Sync + 'static>: Send + Sync + 'static {
    /// What one write comes to.
    type Output: Send + 'static;

    /// Commits all of `items` in one transaction, or none of them.
    async fn write_batch(&self, items: &[T]) -> Result<Committed<Self::Output>>;
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
    /// each one wakes the writer again. On the shared runtime every wake-up queues
    /// behind the HTTP handlers, and under load a batch then spends most of its
    /// time waiting to be polled rather than writing.
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
    let mut rate = ArrivalRate::new(Instant::now());
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        rate.taken(batch.len(), Instant::now());
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
                rate.taken(batch.len() - before, Instant::now());
            }
        }
        let started = Instant::now();
        let oldest = batch.first().map_or(started, |p| p.queued);
        let (items, replies): (Vec<T>, Vec<_>) = batch.drain(..).map(|p| (p.item, p.reply)).unzip();
        let (results, durable) = write(&*writer, &items).await;
        let written = Instant::now();
        let name = Arc::clone(&name);
        settling.spawn(async move {
            let durable = match durable {
                Some(durable) => durable.await.map_err(|err| err.to_string()),
                None => Ok(()),
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
        // otherwise hold every reply until its queue ran dry, chaining many
        // fsyncs into one caller's wait under steady load.
        tokio::task::yield_now().await;
        while settling.try_join_next().is_some() {}
    }
    // Every caller hears back before the writer stops.
    while settling.join_next().await.is_some() {}
}

/// Commits `items` together, or one by one if that fails for one item's sake: one result each, and
/// what they wait for to be durable.
async fn write<T, W>(writer: &W, items: &[T]) -> (Vec<Result<W::Output>>, Option<Durable>)
where
    T: Send + Sync + 'static,
    W: BatchWriter<T>,
{
    match writer.write_batch(items).await {
        Ok(committed) if committed.outputs.len() == items.len() => {
            let results = committed.outputs.into_iter().map(Ok).collect();
            (results, committed.durable)
        }
        Err(err) if items.len() == 1 => (vec![Err(err)], None),
        // The database failed, not an item: each would fail alone too, one timeout
        // after another, while its caller waits (a webhook for its 503).
        Err(err) if says_database_is_failing(&err) => {
            let message = err.to_string();
            let mut results = vec![Err(err)];
            results.extend((1..items.len()).map(|_| Err(StoreError::Unavailable(message.clone()))));
            (results, None)
        }
        _ => {
            let mut results = Vec::with_capacity(items.len());
            let mut durable = None;
            for item in items {
                let written = writer.write_batch(std::slice::from_ref(item)).await;
                results.push(written.and_then(|mut committed| {
                    // Only the last commit's wait is kept: it starts after every
                    // commit before it, so it covers them too.
                    durable = committed.durable.take().or(durable.take());
                    committed.outputs.pop().ok_or_else(|| {
                        StoreError::Corrupt("a batch of one wrote nothing".to_owned())
                    })
                }));
            }
            (results, durable)
        }
    }
}
