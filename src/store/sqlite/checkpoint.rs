//! WAL checkpoints beside the writer instead of inside its commits.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its page
//! threshold: it copies the WAL into the database file and fsyncs it, during
//! which nothing else is written and every waiting webhook waits too. Here the
//! writer never checkpoints on its own (`wal_autocheckpoint = 0`). A task with a
//! connection of its own copies the WAL in the background, while the writer goes
//! on appending.
//!
//! The background copy alone would let the WAL grow for as long as the load
//! lasts: SQLite rewinds it only when a write transaction begins with every frame
//! already copied, and under steady load there is always a newer frame. So once
//! the WAL is long, the checkpointer asks the writer to finish the job: before its
//! next transaction, the writer copies the few frames written since the last
//! background pass, and that transaction starts the WAL over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::SqliteConnection;

use crate::store::error::Result;

/// WAL frames (pages) after which the writer is asked to let the WAL start over.
/// Each start-over costs the writer one short inline checkpoint and its fsync, so
/// the WAL may grow well past SQLite's default threshold, which under load would
/// make the writer pay that several times a second.
///
/// That fsync is most of the cost: SQLite syncs the database file only in a
/// checkpoint that reaches the WAL's end, so it flushes every page the background
/// passes copied since the last start-over. Flushing the file from the
/// checkpointer instead slowed the acknowledgements' WAL fsyncs, and closing a
/// descriptor of the file would drop SQLite's locks on it.
pub(super) const RESTART_FRAMES: i64 = 4000;

/// Pause between passes while there is something to copy.
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// Longest pause when idle; an idle pass costs one query.
const IDLE_PAUSE: Duration = Duration::from_secs(2);

/// The writer's side: whether it should finish a checkpoint before writing.
#[derive(Clone)]
pub(super) struct Checkpointer {
    finish: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Starts checkpointing on `conn` until the last clone is dropped; asks the
    /// writer to finish once the WAL holds `restart_frames`.
    pub(super) fn spawn(conn: SqliteConnection, restart_frames: i64) -> Self {
        let checkpointer = Self::none();
        tokio::spawn(run(
            Arc::downgrade(&checkpointer.finish),
            conn,
            restart_frames,
        ));
        checkpointer
    }

    /// A checkpointer that never asks anything, for an in-memory database.
    pub(super) fn none() -> Self {
        Self {
            finish: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Run on the writer before a write (by [`super::writer::Writer`], the only
    /// caller): copies what the background pass left, when asked to, so that this
    /// write can start the WAL over.
    pub(super) async fn finish_on(&self, writer: &mut SqliteConnection) -> Result<()> {
        if self.finish.load(Ordering::Acquire) {
            let started = std::time::Instant::now();
            let (busy, log, copied) = passive(writer).await?;
            // How long each start-over held the writer, for
            // `RUST_LOG=herald::store::sqlite::checkpoint=debug`.
            tracing::debug!(
                busy,
                log,
                copied,
                took_us = started.elapsed().as_micros(),
                "writer finished a checkpoint"
            );
            // Busy: a background pass holds the checkpoint lock; ask again next time.
            if busy == 0 {
                self.finish.store(false, Ordering::Release);
            }
        }
        Ok(())
    }
}

/// One PASSIVE checkpoint: `(busy, frames in the WAL, frames copied)`. It never
/// waits for a lock and never blocks the writer.
async fn passive(conn: &mut SqliteConnection) -> Result<(i64, i64, i64)> {
    Ok(
        sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(conn)
            .await?,
    )
}

async fn run(finish: Weak<AtomicBool>, mut conn: SqliteConnection, restart_frames: i64) {
    let mut pause = BUSY_PAUSE;
    let mut last = (0, 0);
    loop {
        tokio::time::sleep(pause).await;
        let Some(finish) = finish.upgrade() else {
            break;
        };
        match passive(&mut conn).await {
            Ok((_, log, copied)) => {
                if log >= restart_frames {
                    // A second pass right away copies what came in during the
                    // first, so the writer is left only a short tail.
                    if let Err(err) = passive(&mut conn).await {
                        tracing::warn!(error = %err, "WAL checkpoint failed");
                    }
                    finish.store(true, Ordering::Release);
                }
                pause = if (log, copied) == last {
                    (pause * 2).min(IDLE_PAUSE)
                } else {
                    BUSY_PAUSE
                };
                last = (log, copied);
            }
            Err(err) => {
                tracing::warn!(error = %err, "WAL checkpoint failed");
                pause = IDLE_PAUSE;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use sqlx::Connection;

    use super::*;
    use crate::store::sqlite::wal_sync::WalSync;
    use crate::store::sqlite::writer::Writer;

    /// How often the WAL at `wal` has started over: its header's checkpoint
    /// sequence number (bytes 12 to 16, big-endian).
    fn restarts(wal: &std::path::Path) -> u32 {
        use std::io::Read;
        let mut header = [0_u8; 16];
        std::fs::File::open(wal)
            .and_then(|mut file| file.read_exact(&mut header))
            .expect("WAL header");
        u32::from_be_bytes([header[12], header[13], header[14], header[15]])
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_steady_writes_the_wal_starts_over_instead_of_growing() {
        let dir = tempfile::TempDir::new().expect("dir");
        let path = dir.path().join("ckpt.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .expect("url")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", "0");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .expect("writer");
        sqlx::query("CREATE TABLE t (body TEXT NOT NULL)")
            .execute(&writer)
            .await
            .expect("table");
        let conn = SqliteConnection::connect_with(&options)
            .await
            .expect("conn");
        let checkpoint = Checkpointer::spawn(conn, 100);
        let writes = Writer::new(writer.clone(), WalSync::spawn(None, None), checkpoint);

        // Writes back to back, as under load: the writer never finds the WAL
        // copied through on its own. Until the WAL has started over five times,
        // however long a busy machine keeps the checkpointer from asking (a fixed
        // count of writes once let the WAL reach 5 MB in CI). Without the writer's
        // share it never starts over.
        let wal = dir.path().join("ckpt.db-wal");
        let first = restarts(&wal);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let body = "x".repeat(4000);
        let mut rows = 0;
        while restarts(&wal) < first + 5 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the WAL started over {} times in {rows} writes",
                restarts(&wal) - first
            );
            let mut write = writes.lossy().await.expect("acquire");
            sqlx::query("INSERT INTO t (body) VALUES (?)")
                .bind(&body)
                .execute(&mut *write)
                .await
                .expect("insert");
            rows += 1;
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&writer)
            .await
            .expect("count");
        assert_eq!(count, rows);
    }
}
