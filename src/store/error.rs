//! What can go wrong in the store.

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("cannot open database {url}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// Schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The task that commits grouped writes has stopped (the process is shutting down).
    #[error("the database writer has stopped")]
    WriterStopped,
    /// A commit may not have reached the disk: an fsync failed, and every later
    /// durable write fails too until herald restarts.
    #[error("the database cannot promise durability: {0}")]
    NotDurable(String),
    /// A write that shared a batch with one the database refused for its own sake
    /// (no connection, a full disk): not tried again alone, since it would fail too.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A stock adjustment was refused: a level would leave the `i64` range.
    #[error(transparent)]
    StockOverflow(#[from] herald_plugin_inventory::ledger::StockOverflow),
    /// A stored row could not be read back (corrupt JSON, bad value).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
