//! The one way to write on SQLite: every write takes the writer connection
//! through [`Writer`], which first finishes any checkpoint the checkpointer asked
//! for, and says up front whether its commit must survive a power loss.
//!
//! A durable write's commit waits for the WAL's fsync ([`WalSync`]) before it
//! returns, or, in a group commit, hands back an [`Unsynced`] that its callers
//! wait on while the next batch is written. There is no other way to commit a
//! durable write, so no caller can forget the sync. A lossy write commits
//! without it: a claim's lease, a deferral or an attempt record may be lost with
//! the power, and the job is then delivered again with the same idempotency key,
//! which at-least-once allows.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection, SqlitePool, Transaction};

use super::checkpoint::Checkpointer;
use super::one_trip;
use super::wal_sync::WalSync;
use crate::store::error::Result;

/// The writer connection's pool (one connection), with what every write needs.
#[derive(Clone)]
pub(in crate::store) struct Writer {
    pool: SqlitePool,
    /// Durability for the commits, which return before their fsync.
    wal: WalSync,
    /// Checkpoints the WAL beside the writer.
    checkpoint: Checkpointer,
}

impl Writer {
    pub(super) fn new(pool: SqlitePool, wal: WalSync, checkpoint: Checkpointer) -> Self {
        Self {
            pool,
            wal,
            checkpoint,
        }
    }

    /// The writer connection, once it has run the checkpoint hand-off.
    async fn acquire(&self) -> Result<PoolConnection<Sqlite>> {
        let mut conn = self.pool.acquire().await?;
        if conn.is_in_transaction() {
            conn = self.replace_if_stuck(conn).await?;
        }
        self.checkpoint.finish_on(&mut conn).await?;
        Ok(conn)
    }

    /// A connection whose transaction bookkeeping is sound: `conn` itself, or a new one.
    ///
    /// SQLite ends a transaction by itself on some errors (`SQLITE_FULL`, I/O errors);
    /// sqlx's `ROLLBACK` on drop then fails, its count of open transactions stays at
    /// one, and every later `BEGIN IMMEDIATE` on the connection is refused. Such a
    /// connection is closed and the pool opens another. (An in-memory database would
    /// be lost with it; it only ever reaches this after a full disk, which it has not.)
    async fn replace_if_stuck(
        &self,
        mut conn: PoolConnection<Sqlite>,
    ) -> Result<PoolConnection<Sqlite>> {
        // A dropped transaction's rollback may still be queued: one trip runs it.
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        if !conn.is_in_transaction() {
            return Ok(conn);
        }
        tracing::warn!("the writer connection lost its transaction state; reconnecting");
        if let Err(err) = conn.close().await {
            tracing::debug!(error = %err, "closing the stuck writer connection failed");
        }
        Ok(self.pool.acquire().await?)
    }

    /// The writer connection for a write whose commit must survive a power loss.
    ///
    /// # Errors
    /// When the connection cannot be had or the checkpoint hand-off fails.
    pub(in crate::store) async fn durable(&self) -> Result<DurableWrite> {
        Ok(DurableWrite {
            conn: self.acquire().await?,
            wal: self.wal.clone(),
        })
    }

    /// The writer connection for writes that may be lost with the power; each
    /// statement run on it commits by itself unless it is a [`LossyWrite::commit_one_trip`].
    ///
    /// # Errors
    /// When the connection cannot be had or the checkpoint hand-off fails.
    pub(in crate::store) async fn lossy(&self) -> Result<LossyWrite> {
        Ok(LossyWrite {
            conn: self.acquire().await?,
        })
    }
}

/// The writer connection, for a write that must survive a power loss.
pub(in crate::store) struct DurableWrite {
    conn: PoolConnection<Sqlite>,
    wal: WalSync,
}

impl DurableWrite {
    /// Opens a transaction, holding SQLite's write lock from the start, so what
    /// it reads (whether an event still exists, say) holds until it commits.
    ///
    /// # Errors
    /// On a database error.
    pub(in crate::store) async fn begin(&mut self) -> Result<DurableTx<'_>> {
        let tx = self.conn.begin_with("BEGIN IMMEDIATE").await?;
        Ok(DurableTx { tx, wal: &self.wal })
    }

    /// Commits `query` (from [`one_trip::transaction`]) in one trip and returns
    /// the rows it read, and what its callers wait on before they hear back.
    ///
    /// # Errors
    /// The first statement's error; the transaction is then rolled back.
    pub(super) async fn commit_one_trip(
        mut self,
        query: QueryBuilder<'_, Sqlite>,
    ) -> Result<(Vec<SqliteRow>, Unsynced)> {
        let rows = one_trip::commit(&mut self.conn, query).await?;
        Ok((rows, Unsynced { wal: self.wal }))
    }
}

/// A durable transaction: its commit returns once it survives a power loss.
/// Dropped without a commit, it rolls back.
pub(in crate::store) struct DurableTx<'c> {
    tx: Transaction<'c, Sqlite>,
    wal: &'c WalSync,
}

impl DurableTx<'_> {
    /// Commits, then waits for the WAL's fsync.
    ///
    /// # Errors
    /// When the commit fails, or [`crate::store::StoreError::NotDurable`] when
    /// the fsync does.
    pub(in crate::store) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.wal.sync().await
    }
}

impl Deref for DurableTx<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for DurableTx<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

/// A commit that has returned before its fsync: whoever was promised durability
/// waits on [`Unsynced::synced`].
#[must_use = "a durable write is durable only once `synced` has returned"]
pub(super) struct Unsynced {
    wal: WalSync,
}

impl Unsynced {
    /// Waits until the commit (and every one before it) is on disk.
    ///
    /// # Errors
    /// [`crate::store::StoreError::NotDurable`] when the fsync fails.
    pub(super) async fn synced(self) -> Result<()> {
        self.wal.sync().await
    }
}

/// The writer connection, for writes that may be lost with the power.
pub(in crate::store) struct LossyWrite {
    conn: PoolConnection<Sqlite>,
}

impl LossyWrite {
    /// Commits `query` (from [`one_trip::transaction`]) in one trip and returns
    /// the rows it read.
    ///
    /// # Errors
    /// The first statement's error; the transaction is then rolled back.
    pub(super) async fn commit_one_trip(
        mut self,
        query: QueryBuilder<'_, Sqlite>,
    ) -> Result<Vec<SqliteRow>> {
        one_trip::commit(&mut self.conn, query).await
    }
}

impl Deref for LossyWrite {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for LossyWrite {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}
