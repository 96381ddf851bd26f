//! A transaction sent to SQLite's thread as one multi-statement query.
//!
//! sqlx runs each SQLite connection on a thread of its own. Every statement is a
//! round trip to that thread, and every row it returns is one more wake-up of the
//! caller: an ingest batch that read its inserted rows back with `RETURNING` cost
//! a context switch per event, and on busy cores each of those waits for a core.
//! The group-committed writes therefore go as `BEGIN IMMEDIATE; …; COMMIT` in one
//! query and read back at most one row; sqlx binds the query's arguments across
//! its statements in order.

use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};

use crate::store::error::Result;

/// A query that opens the transaction; push its statements, each ending in `;`.
pub(super) fn transaction<'args>() -> QueryBuilder<'args, Sqlite> {
    // IMMEDIATE: the write lock from the start, so what a statement reads (the
    // largest rowid, say) holds until COMMIT.
    QueryBuilder::new("BEGIN IMMEDIATE;\n")
}

/// Commits `query` (from [`transaction`]) in one trip and returns the rows it read.
///
/// # Errors
/// The first statement's error; the transaction is then rolled back.
pub(super) async fn commit(
    conn: &mut PoolConnection<Sqlite>,
    mut query: QueryBuilder<'_, Sqlite>,
) -> Result<Vec<SqliteRow>> {
    query.push("\nCOMMIT");
    let mut open = OpenTransaction { conn, done: false };
    let result = query.build().fetch_all(&mut **open.conn).await;
    if let Err(err) = &result {
        // A failed statement leaves the transaction open, unless SQLite rolled it
        // back itself; then this ROLLBACK has nothing to do and fails, harmlessly.
        if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut **open.conn).await {
            tracing::debug!(error = %err, rollback = %rollback, "batch failed before its transaction opened or after SQLite ended it");
        }
    }
    open.done = true;
    Ok(result?)
}

/// Closes the connection instead of pooling it when a trip is abandoned halfway:
/// sqlx's thread stops at the statement it was on, which may leave the transaction
/// open, and the next `BEGIN` on that connection would fail.
struct OpenTransaction<'c> {
    conn: &'c mut PoolConnection<Sqlite>,
    done: bool,
}

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.conn.close_on_drop();
        }
    }
}
