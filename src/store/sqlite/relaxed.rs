//! The writer connection for bookkeeping whose commit need not wait for fsync.
//!
//! Only an ingest commit promises anything to the outside (Stripe's 200), so only
//! it must be on disk before it returns. Claims and attempt records commit with
//! `synchronous = NORMAL`: SQLite appends them to the WAL without an fsync, and the
//! next ingest commit's fsync makes them durable too (the WAL is one file, written
//! in order). A power loss can lose the newest of them, never an acknowledged
//! event, and never one without those before it; a lost claim or attempt means a
//! job is delivered again, with the same idempotency key, which at-least-once
//! allows. PostgreSQL's `synchronous_commit = off` is the same trade.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::store::error::Result;

/// The writer, switched to commits without fsync until [`Relaxed::release`].
///
/// Dropped without `release` (an error, a cancelled future), the connection is
/// closed instead of going back to the pool, so no other write ever runs on it
/// with the relaxed setting.
pub(super) struct Relaxed {
    conn: PoolConnection<Sqlite>,
    restored: bool,
}

impl Relaxed {
    /// Takes the writer and relaxes it.
    pub(super) async fn acquire(writer: &SqlitePool) -> Result<Self> {
        let mut conn = writer.acquire().await?;
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *conn)
            .await?;
        Ok(Self {
            conn,
            restored: false,
        })
    }

    /// Restores `synchronous = FULL` and gives the writer back.
    pub(super) async fn release(mut self) -> Result<()> {
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *self.conn)
            .await?;
        self.restored = true;
        Ok(())
    }
}

impl Deref for Relaxed {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for Relaxed {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

impl Drop for Relaxed {
    fn drop(&mut self) {
        if !self.restored {
            self.conn.close_on_drop();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};

    use super::*;

    /// `PRAGMA synchronous` reads 1 for NORMAL and 2 for FULL.
    async fn synchronous(conn: &mut SqliteConnection) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(conn)
            .await
            .expect("pragma")
    }

    async fn writer(dir: &tempfile::TempDir) -> SqlitePool {
        let url = format!("sqlite://{}", dir.path().join("relaxed.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .expect("url")
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Full);
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("pool")
    }

    #[tokio::test]
    async fn a_released_writer_commits_with_fsync_again() {
        let dir = tempfile::TempDir::new().expect("dir");
        let pool = writer(&dir).await;
        let mut relaxed = Relaxed::acquire(&pool).await.expect("acquire");
        assert_eq!(synchronous(&mut relaxed).await, 1);
        relaxed.release().await.expect("release");
        let mut conn = pool.acquire().await.expect("conn");
        assert_eq!(synchronous(&mut conn).await, 2);
    }

    #[tokio::test]
    async fn a_writer_dropped_while_relaxed_is_never_reused() {
        let dir = tempfile::TempDir::new().expect("dir");
        let pool = writer(&dir).await;
        let relaxed = Relaxed::acquire(&pool).await.expect("acquire");
        drop(relaxed);
        // The pool's one connection was closed; this is a fresh one, opened FULL.
        let mut conn = pool.acquire().await.expect("conn");
        assert_eq!(synchronous(&mut conn).await, 2);
    }
}
