//! The SQLite backend: one file, WAL journal. Every write goes through the
//! [`Writer`], which runs the checkpoint hand-off (`checkpoint`) and makes a
//! durable commit wait for the WAL's fsync (`wal_sync`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};

mod batch_writes;
mod checkpoint;
mod file_identity;
mod one_trip;
#[cfg(test)]
mod tests;
mod wal_sync;
mod writer;

use self::batch_writes::{AttemptWriter, IngestWriter};
use self::checkpoint::Checkpointer;
use self::file_identity::DatabaseFile;
use self::wal_sync::WalSync;
use self::writer::Writer;
pub(in crate::store) use self::writer::{DurableTx, DurableWrite, LossyWrite};
use super::attempt::NewAttempt;
use super::error::{Result, StoreError};
use super::group_commit::GroupCommit;
use super::job::IngestOutcome;
use super::links::RecentLinks;
use super::new_event::{NewEvent, NewJob};
use super::probe::PROBE_BYTES;
use super::{ATTEMPTS_LINGER, GROUP_COMMIT_MAX, INGEST_LINGER};

/// Inserts `jobs` for event `event_pk`; a job whose idempotency key exists is skipped.
/// Returns how many were inserted.
pub(in crate::store) async fn insert_jobs(
    tx: &mut SqliteConnection,
    event_pk: i64,
    jobs: &[NewJob],
    now: i64,
) -> Result<u64> {
    let mut inserted = 0;
    for job in jobs {
        inserted += sqlx::query(
            "INSERT INTO jobs (event_pk, rule, action_index, plugin, params, idempotency_key,
                               run_at, queued_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?7, ?7, ?7)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(event_pk)
        .bind(&job.rule)
        .bind(job.action_index)
        .bind(&job.plugin)
        .bind(&job.params)
        .bind(&job.idempotency_key)
        .bind(now)
        .bind(job.first_run(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

/// How long a writer waits for another's lock before giving up; SQLite allows one
/// writer at a time, and commits take milliseconds, so this only bites when stuck.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reading connections: readers run in parallel under WAL.
const MAX_READERS: u32 = 8;

/// The SQLite store.
///
/// Every write in this process goes through one connection, the [`Writer`]'s.
/// SQLite lets one writer in at a time anyway; with several connections the
/// others wait in SQLite's busy handler, which sleeps in growing steps instead of
/// queueing, and throughput collapses. Waiting for the one connection is an
/// async queue instead. The busy timeout still covers other processes (the CLI).
#[derive(Clone)]
pub struct SqliteStore {
    pub(in crate::store) pool: SqlitePool,
    pub(in crate::store) writer: Writer,
    pub(in crate::store) ingest: GroupCommit<NewEvent, IngestOutcome>,
    pub(in crate::store) attempts: GroupCommit<NewAttempt, ()>,
    /// The database file opened; `None` in memory.
    file: Option<DatabaseFile>,
}

impl SqliteStore {
    pub async fn connect(url: &str, display: &str, instance: Arc<str>) -> Result<Self> {
        let open = |source| StoreError::Open {
            url: display.to_owned(),
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL: a commit returns before its fsync, and a durable write waits
            // for `WalSync` (see there), so the writer never waits for the disk.
            // Checkpoints still sync.
            .synchronous(SqliteSynchronous::Normal)
            // Checkpoints happen beside the writer, not inside its commits (see
            // `checkpoint`).
            .pragma("wal_autocheckpoint", "0")
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Its only user is this process; a ping before every use would be one
            // more round trip to the SQLite thread per write.
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query(batch_writes::CREATE_INGEST_FLOOR)
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(open)?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        // An in-memory database exists once per connection: it must be the writer's.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let file = if in_memory {
            None
        } else {
            let path = options.get_filename();
            Some(DatabaseFile::at(path).map_err(|e| open(sqlx::Error::Io(e)))?)
        };
        let wal = WalSync::spawn(
            (!in_memory).then(|| options.get_filename().to_owned()),
            file.clone(),
        );
        let checkpoint = if in_memory {
            Checkpointer::none()
        } else {
            let conn = SqliteConnection::connect_with(&options)
                .await
                .map_err(open)?;
            Checkpointer::spawn(conn, checkpoint::RESTART_FRAMES)
        };
        let pool = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(MAX_READERS)
                .connect_with(options.read_only(true))
                .await
                .map_err(open)?
        };
        let writer = Writer::new(writer, wal, checkpoint);
        let ingest = GroupCommit::spawn_lingering(
            "herald-ingest",
            IngestWriter {
                writer: writer.clone(),
                links: RecentLinks::default(),
            },
            GROUP_COMMIT_MAX,
            Some(INGEST_LINGER),
        );
        let attempts = GroupCommit::spawn_lingering(
            "herald-attempts",
            AttemptWriter {
                writer: writer.clone(),
                instance,
            },
            GROUP_COMMIT_MAX,
            Some(ATTEMPTS_LINGER),
        );
        Ok(Self {
            pool,
            writer,
            ingest,
            attempts,
            file,
        })
    }

    /// The database answers, and its file is still the one opened.
    pub async fn ping(&self) -> Result<()> {
        if let Some(Err(message)) = self.file.as_ref().map(DatabaseFile::check) {
            return Err(StoreError::NotDurable(message));
        }
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Writes and deletes a row of [`PROBE_BYTES`] in one durable transaction.
    pub(in crate::store) async fn probe_write(&self) -> Result<()> {
        let mut query = one_trip::transaction();
        query
            .push("INSERT INTO write_probe (filler) VALUES (zeroblob(")
            .push_bind(i64::try_from(PROBE_BYTES).unwrap_or(i64::MAX))
            .push("));\nDELETE FROM write_probe;");
        let write = self.writer.durable().await?;
        let (_, unsynced) = write.commit_one_trip(query).await?;
        unsynced.synced().await
    }

    /// Caps the file at its current size, or lifts the cap, so a test sees writes
    /// fail with a real `SQLITE_FULL`, as on a full disk.
    pub async fn cap_size(&self, capped: bool) -> Result<()> {
        // A cap below the file's size is raised to it; the largest value means none.
        let pages = if capped { 1 } else { u32::MAX - 1 };
        let mut write = self.writer.lossy().await?;
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(&mut *write)
            .await?;
        Ok(())
    }
}
