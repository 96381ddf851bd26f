//! Where a shared statement runs: a connection or a transaction on either
//! backend. The arguments are bound here, once per backend; everything above
//! this file is written once.

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, FromRow, PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

use super::{Arg, Dialect, Sql};
use crate::store::error::{Result, StoreError};
use crate::store::new_event::NewJob;
use crate::store::sqlite::{DurableTx, DurableWrite, LossyWrite};
use crate::store::{postgres, sqlite};

/// A row type both backends read: `#[derive(sqlx::FromRow)]` gives it for both.
pub(in crate::store) trait FromRows:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> FromRows for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A connection, borrowed for one statement.
pub(in crate::store) enum Exec<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Runs shared statements; what runs them says only where ([`Run::exec`]).
pub(in crate::store) trait Run {
    /// The connection the next statement runs on.
    fn exec(&mut self) -> Exec<'_>;

    /// Runs `sql`; how many rows it changed.
    async fn execute(&mut self, sql: &Sql) -> Result<u64> {
        Ok(match self.exec() {
            Exec::Sqlite(conn) => sqlx::query_with(sql.text(), sqlite_args(sql.args())?)
                .execute(conn)
                .await?
                .rows_affected(),
            Exec::Postgres(conn) => sqlx::query_with(sql.text(), pg_args(sql.args())?)
                .execute(conn)
                .await?
                .rows_affected(),
        })
    }

    /// Every row `sql` reads.
    async fn fetch_all<T: FromRows>(&mut self, sql: &Sql) -> Result<Vec<T>> {
        Ok(match self.exec() {
            Exec::Sqlite(conn) => {
                sqlx::query_as_with(sql.text(), sqlite_args(sql.args())?)
                    .fetch_all(conn)
                    .await?
            }
            Exec::Postgres(conn) => {
                sqlx::query_as_with(sql.text(), pg_args(sql.args())?)
                    .fetch_all(conn)
                    .await?
            }
        })
    }

    /// The first row `sql` reads, if any.
    async fn fetch_optional<T: FromRows>(&mut self, sql: &Sql) -> Result<Option<T>> {
        Ok(match self.exec() {
            Exec::Sqlite(conn) => {
                sqlx::query_as_with(sql.text(), sqlite_args(sql.args())?)
                    .fetch_optional(conn)
                    .await?
            }
            Exec::Postgres(conn) => {
                sqlx::query_as_with(sql.text(), pg_args(sql.args())?)
                    .fetch_optional(conn)
                    .await?
            }
        })
    }

    /// The first column of every row `sql` reads.
    async fn scalars<T>(&mut self, sql: &Sql) -> Result<Vec<T>>
    where
        (T,): FromRows,
    {
        let rows: Vec<(T,)> = self.fetch_all(sql).await?;
        Ok(rows.into_iter().map(|(value,)| value).collect())
    }

    /// The first column of the first row `sql` reads, if any.
    async fn scalar<T>(&mut self, sql: &Sql) -> Result<Option<T>>
    where
        (T,): FromRows,
    {
        let row: Option<(T,)> = self.fetch_optional(sql).await?;
        Ok(row.map(|(value,)| value))
    }
}

/// A connection for reads, or for writes that may be lost with the power (see
/// [`crate::store::Store::lossy`]); each statement commits by itself.
pub(in crate::store) enum Conn {
    SqliteRead(PoolConnection<Sqlite>),
    SqliteLossy(LossyWrite),
    Postgres(PoolConnection<Postgres>),
}

impl Conn {
    /// Opens a transaction; on the SQLite writer it holds the write lock from the start.
    pub(in crate::store) async fn begin(&mut self) -> Result<Tx<'_>> {
        Ok(match self {
            Self::SqliteRead(conn) => Tx::Sqlite(sqlx::Connection::begin(&mut **conn).await?),
            Self::SqliteLossy(conn) => {
                Tx::Sqlite(sqlx::Connection::begin_with(&mut **conn, "BEGIN IMMEDIATE").await?)
            }
            Self::Postgres(conn) => Tx::Postgres(sqlx::Connection::begin(&mut **conn).await?),
        })
    }
}

impl Run for Conn {
    fn exec(&mut self) -> Exec<'_> {
        match self {
            Self::SqliteRead(conn) => Exec::Sqlite(conn),
            Self::SqliteLossy(conn) => Exec::Sqlite(conn),
            Self::Postgres(conn) => Exec::Postgres(conn),
        }
    }
}

/// A connection for writes that must survive a power loss: they run only in a
/// [`Tx`], whose commit returns once they would.
pub(in crate::store) enum Durable {
    Sqlite(DurableWrite),
    Postgres(PoolConnection<Postgres>),
}

impl Durable {
    /// Opens a transaction; on SQLite it holds the write lock from the start, so
    /// what it reads (whether an event still exists, say) holds until it commits.
    pub(in crate::store) async fn begin(&mut self) -> Result<Tx<'_>> {
        Ok(match self {
            Self::Sqlite(write) => Tx::SqliteDurable(write.begin().await?),
            Self::Postgres(conn) => Tx::Postgres(sqlx::Connection::begin(&mut **conn).await?),
        })
    }
}

/// A transaction on either backend; dropped without [`Tx::commit`], it rolls back.
pub(in crate::store) enum Tx<'c> {
    SqliteDurable(DurableTx<'c>),
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

impl Tx<'_> {
    /// Which SQL this transaction speaks.
    pub(in crate::store) fn dialect(&self) -> Dialect {
        match self {
            Self::SqliteDurable(_) | Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Commits; a durable transaction returns once the commit would survive a
    /// power loss.
    pub(in crate::store) async fn commit(self) -> Result<()> {
        match self {
            Self::SqliteDurable(tx) => tx.commit().await,
            Self::Sqlite(tx) => Ok(tx.commit().await?),
            Self::Postgres(tx) => Ok(tx.commit().await?),
        }
    }

    /// Serializes the transactions that name `key` until this one ends: on
    /// PostgreSQL an advisory lock, on SQLite nothing, as its single writer
    /// already serializes every write.
    pub(in crate::store) async fn lock(&mut self, key: &str) -> Result<()> {
        if self.dialect() == Dialect::Postgres {
            let lock = Sql::new("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key);
            self.execute(&lock).await?;
        }
        Ok(())
    }

    /// Inserts `jobs` for event `event_pk`, skipping those whose idempotency key
    /// exists, as each backend does it fastest; how many were inserted.
    pub(in crate::store) async fn insert_jobs(
        &mut self,
        event_pk: i64,
        jobs: &[NewJob],
        now_ms: i64,
    ) -> Result<u64> {
        match self.exec() {
            Exec::Sqlite(conn) => sqlite::insert_jobs(conn, event_pk, jobs, now_ms).await,
            Exec::Postgres(conn) => postgres::insert_jobs(conn, event_pk, jobs, now_ms).await,
        }
    }
}

impl Run for Tx<'_> {
    fn exec(&mut self) -> Exec<'_> {
        match self {
            Self::SqliteDurable(tx) => Exec::Sqlite(tx),
            Self::Sqlite(tx) => Exec::Sqlite(tx),
            Self::Postgres(tx) => Exec::Postgres(tx),
        }
    }
}

/// An argument the driver refused to encode.
fn refused(err: sqlx::error::BoxDynError) -> StoreError {
    StoreError::Database(sqlx::Error::Encode(err))
}

/// A list as SQLite's `json_each` reads it.
fn json_list<T: serde::Serialize>(list: &[T]) -> Result<String> {
    serde_json::to_string(list).map_err(|e| StoreError::Corrupt(format!("a list argument: {e}")))
}

fn sqlite_args(args: &[Arg]) -> Result<SqliteArguments<'_>> {
    let mut out = SqliteArguments::default();
    for arg in args {
        match arg {
            Arg::Int(value) => out.add(*value),
            Arg::Bool(value) => out.add(*value),
            Arg::Text(value) => out.add(value.as_deref()),
            Arg::Bytes(value) => out.add(value.as_slice()),
            Arg::Ints(list) => out.add(json_list(list)?),
            Arg::Texts(list) => out.add(json_list(list)?),
        }
        .map_err(refused)?;
    }
    Ok(out)
}

fn pg_args(args: &[Arg]) -> Result<PgArguments> {
    let mut out = PgArguments::default();
    for arg in args {
        match arg {
            Arg::Int(value) => out.add(*value),
            Arg::Bool(value) => out.add(*value),
            Arg::Text(value) => out.add(value.as_deref()),
            Arg::Bytes(value) => out.add(value.as_slice()),
            Arg::Ints(list) => out.add(list.as_slice()),
            Arg::Texts(list) => out.add(list.as_slice()),
        }
        .map_err(refused)?;
    }
    Ok(out)
}
