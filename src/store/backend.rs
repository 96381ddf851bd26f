//! The database kind in use, and the connections shared queries run on.
//!
//! Each backend's folder holds only what is its own (SQLite: the single writer,
//! group commit batches, WAL sync, checkpoints; PostgreSQL: the pools, batch inserts);
//! every query both can run is written once against [`super::sql`], and reaches
//! a backend through the three kinds of connection here.

use super::attempt::NewAttempt;
use super::error::Result;
use super::group_commit::GroupCommit;
use super::job::IngestOutcome;
use super::new_event::NewEvent;
use super::postgres::PostgresStore;
use super::sql::{Conn, Dialect, Durable};
use super::sqlite::SqliteStore;
use super::Store;

/// One backend per database kind.
#[derive(Clone)]
pub(super) enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Which SQL the database speaks.
    pub(super) fn dialect(&self) -> Dialect {
        match &self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A connection for reads: SQLite's reading pool, or PostgreSQL's main one.
    pub(super) async fn read(&self) -> Result<Conn> {
        Ok(match &self.backend {
            Backend::Sqlite(store) => Conn::SqliteRead(store.pool.acquire().await?),
            Backend::Postgres(store) => Conn::Postgres(store.pool.acquire().await?),
        })
    }

    /// A connection for bookkeeping writes that may be lost with the power: a
    /// lease, a deferral, a heartbeat. What a crash loses of them is a delivery
    /// made again with the same idempotency key, which at-least-once allows.
    /// SQLite's writer, or a PostgreSQL bookkeeping session (see `postgres`).
    pub(super) async fn lossy(&self) -> Result<Conn> {
        Ok(match &self.backend {
            Backend::Sqlite(store) => Conn::SqliteLossy(store.writer.lossy().await?),
            Backend::Postgres(store) => Conn::Postgres(store.bookkeeping.acquire().await?),
        })
    }

    /// A connection for writes that must survive a power loss: SQLite's writer,
    /// whose commits wait for the WAL's fsync, or PostgreSQL's main pool.
    pub(super) async fn durable(&self) -> Result<Durable> {
        Ok(match &self.backend {
            Backend::Sqlite(store) => Durable::Sqlite(store.writer.durable().await?),
            Backend::Postgres(store) => Durable::Postgres(store.pool.acquire().await?),
        })
    }

    /// The group commit new events join: each backend writes its batches its own way.
    pub(super) fn ingest_writer(&self) -> &GroupCommit<NewEvent, IngestOutcome> {
        match &self.backend {
            Backend::Sqlite(store) => &store.ingest,
            Backend::Postgres(store) => &store.ingest,
        }
    }

    /// The group commit attempt records join.
    pub(super) fn attempt_writer(&self) -> &GroupCommit<NewAttempt, ()> {
        match &self.backend {
            Backend::Sqlite(store) => &store.attempts,
            Backend::Postgres(store) => &store.attempts,
        }
    }
}
