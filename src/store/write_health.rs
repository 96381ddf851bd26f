//! Whether the database takes writes: the ping a readiness check runs reads, and a
//! full disk still answers reads while every commit fails.
//!
//! The store counts the writes that failed for the database's sake (I/O, a full
//! disk, a lost fsync, no connection) since the last one that committed; a write
//! refused for its data (a constraint, an overflow) says nothing about the database
//! and is not counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::error::StoreError;

/// Consecutive failed writes, shared by every clone of a store.
#[derive(Debug, Clone, Default)]
pub(super) struct WriteHealth {
    failing: Arc<AtomicU64>,
}

impl WriteHealth {
    /// Notes how a write ended.
    pub(super) fn observe<T>(&self, result: &Result<T, StoreError>) {
        match result {
            Ok(_) => self.failing.store(0, Ordering::Relaxed),
            Err(err) if says_database_is_failing(err) => {
                self.failing.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
    }

    /// Writes failed since the last one that committed.
    pub(super) fn failing(&self) -> u64 {
        self.failing.load(Ordering::Relaxed)
    }
}

/// Whether `err` is the database's fault rather than the written data's.
pub(super) fn says_database_is_failing(err: &StoreError) -> bool {
    match err {
        StoreError::NotDurable(_) | StoreError::WriterStopped | StoreError::Unavailable(_) => true,
        StoreError::Database(sqlx::Error::Database(db)) => {
            matches!(db.kind(), sqlx::error::ErrorKind::Other)
        }
        StoreError::Database(
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_)
            | sqlx::Error::Tls(_),
        ) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_clears_the_count_and_data_errors_leave_it() {
        let health = WriteHealth::default();
        let failed: Result<(), _> = Err(StoreError::NotDurable("fsync failed".to_owned()));
        health.observe(&failed);
        health.observe(&failed);
        assert_eq!(health.failing(), 2);
        let refused: Result<(), _> = Err(StoreError::Corrupt("bad row".to_owned()));
        health.observe(&refused);
        assert_eq!(health.failing(), 2);
        health.observe(&Ok(()));
        assert_eq!(health.failing(), 0);
    }
}
