//! The database kind in use, and the connections shared queries run on.
//!
//! Each backend's folder holds only what is its own (SQLite: the single writer,
//! group commit, WAL sync, checkpoints; PostgreSQL: the pools, batch inserts);
//! every query both can run is written once against [`super::sql`], and reaches
//! a backend through the three kinds of connection here.

use super::error::Result;
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

    /// A connection for reads.
    pub(super) async fn read(&self) -> Result<Conn> {
        match &self.backend {
            Backend::Sqlite(store) => store.read().await,
            Backend::Postgres(store) => store.read().await,
        }
    }

    /// A connection for bookkeeping writes that may be lost with the power: a
    /// lease, a deferral, a heartbeat. What a crash loses of them is a delivery
    /// made again with the same idempotency key, which at-least-once allows.
    pub(super) async fn lossy(&self) -> Result<Conn> {
        match &self.backend {
            Backend::Sqlite(store) => store.lossy().await,
            Backend::Postgres(store) => store.lossy().await,
        }
    }

    /// A connection for writes that must survive a power loss.
    pub(super) async fn durable(&self) -> Result<Durable> {
        match &self.backend {
            Backend::Sqlite(store) => store.durable().await,
            Backend::Postgres(store) => store.durable().await,
        }
    }
}
