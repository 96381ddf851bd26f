//! Leases that follow the worker, not the clock.
//!
//! Every store names itself with an instance id, and a claim writes that name on
//! the job (`leased_by`). A serving process beats a heartbeat row
//! ([`Store::heartbeat`]) and, in the same write, extends the leases of the jobs
//! it still holds, so a lease can be short without cutting off a slow delivery:
//! it only runs out when its holder stops beating. A process that starts takes
//! back what its dead predecessors held ([`Store::start_instance`]); replicas take
//! back each other's once a heartbeat has been silent for a lease
//! ([`Store::take_back_stale`]).
//!
//! A holder whose job was taken back may still finish its delivery. Its record is
//! then kept as history, but it moves the job on only if its claim still holds it
//! (same attempt number, same holder), so a stale completion cannot mark a job
//! delivered, or queue it again, under the worker now delivering it.

use std::sync::Arc;

use super::error::Result;
use super::{Backend, Store};

/// A new instance id: the process id, for the operator reading `instances`, and
/// 64 random bits, so two processes (or two stores in one) never share one.
pub(super) fn new_instance_id() -> Arc<str> {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>()).into()
}

impl Store {
    /// The name this store writes on the leases it takes.
    pub fn instance(&self) -> &str {
        match &self.backend {
            Backend::Sqlite(store) => store.instance(),
            Backend::Postgres(store) => store.instance(),
        }
    }

    /// Starts serving as this instance at `now_ms`: writes its heartbeat and takes
    /// back the leases no live process holds. On SQLite that is every lease, at
    /// once: one herald process serves a SQLite file, so whoever held them is
    /// gone. On PostgreSQL, those of replicas silent for `lease_ms`. Returns how
    /// many jobs were taken back.
    ///
    /// # Errors
    /// On a database error.
    pub async fn start_instance(&self, now_ms: i64, lease_ms: i64) -> Result<u64> {
        on_backend!(self.start_instance(now_ms, lease_ms))
    }

    /// Beats this instance's heartbeat at `now_ms` and extends the leases it holds
    /// on the jobs `in_flight` to `lease_ms` from now, in one write. Jobs taken
    /// back meanwhile are left to their new holder. Returns how many were renewed.
    ///
    /// # Errors
    /// On a database error.
    pub async fn heartbeat(&self, now_ms: i64, lease_ms: i64, in_flight: &[i64]) -> Result<u64> {
        on_backend!(self.heartbeat(now_ms, lease_ms, in_flight))
    }

    /// Takes back the leases of instances whose heartbeat is older than
    /// `lease_ms` at `now_ms`, and forgets those instances. Returns how many jobs
    /// were taken back.
    ///
    /// # Errors
    /// On a database error.
    pub async fn take_back_stale(&self, now_ms: i64, lease_ms: i64) -> Result<u64> {
        on_backend!(self.take_back_stale(now_ms, lease_ms))
    }

    /// Stops serving as this instance: gives back every lease it still holds
    /// (jobs whose attempt could not be recorded) and deletes its heartbeat.
    /// Returns how many leases were given back.
    ///
    /// # Errors
    /// On a database error.
    pub async fn stop_instance(&self) -> Result<u64> {
        on_backend!(self.stop_instance())
    }
}
