//! Group commit: writes from concurrent callers share one transaction, and so one
//! fsync, while each caller still waits until its own write has committed.
//!
//! A single task owns the writing. It takes the first queued write, then whatever
//! else queued meanwhile (up to a limit), and commits them together. Nothing waits
//! on purpose: under light load a batch is one write and commits at once; under
//! heavy load writes pile up during each commit and the next batch is bigger, so the
//! cost of an fsync is spread over more of them. If a batch fails, its writes are
//! retried one transaction each, so one bad write fails alone.

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::error::{Result, StoreError};

/// Writes of one kind, as a backend commits them.
#[async_trait]
pub trait BatchWriter<T: Send + Sync + 'static>: Send + Sync + 'static {
    /// What one write comes to.
    type Output: Send + 'static;

    /// Commits all of `items` in one transaction, or none of them.
    async fn write_batch(&self, items: &[T]) -> Result<Vec<Self::Output>>;

    /// Commits `item` alone, after its batch failed.
    async fn write_one(&self, item: &T) -> Result<Self::Output> {
        let mut outputs = self.write_batch(std::slice::from_ref(item)).await?;
        outputs
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a batch of one wrote nothing".to_owned()))
    }
}

/// A queued write and the caller waiting for it.
struct Pending<T, O> {
    item: T,
    reply: oneshot::Sender<Result<O>>,
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
        let max_batch = max_batch.max(1);
        // Bounded, so a database slower than the callers pushes back on them.
        let (queue, receiver) = mpsc::channel(max_batch * 4);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run(writer, receiver, max_batch)),
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
            .send(Pending { item, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run<T, W>(writer: W, mut receiver: mpsc::Receiver<Pending<T, W::Output>>, max_batch: usize)
where
    T: Send + Sync + 'static,
    W: BatchWriter<T>,
{
    let mut batch = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        let (items, replies): (Vec<T>, Vec<_>) = batch.drain(..).map(|p| (p.item, p.reply)).unzip();
        match writer.write_batch(&items).await {
            Ok(outputs) if outputs.len() == items.len() => {
                for (reply, output) in replies.into_iter().zip(outputs) {
                    // A caller that gave up no longer listens; its write stands.
                    let _ = reply.send(Ok(output));
                }
            }
            Err(err) if items.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(err));
                }
            }
            _ => {
                for (item, reply) in items.iter().zip(replies) {
                    let _ = reply.send(writer.write_one(item).await);
                }
            }
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
}
