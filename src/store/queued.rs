//! Jobs queued for a plugin instance that a reload removed: they wait (not dead)
//! until the instance returns, or an operator deletes them (`herald purge --queued`).

use super::error::Result;
use super::job::JobSummary;
use super::{Backend, Store};

impl Store {
    /// The pending jobs for plugin instance `plugin`, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn queued_for(&self, plugin: &str) -> Result<Vec<JobSummary>> {
        on_backend!(self.queued_for(plugin))
    }

    /// Deletes the pending jobs for `plugin` (and their attempts) that no worker
    /// holds at `now_ms`; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_queued(&self, plugin: &str, now_ms: i64) -> Result<u64> {
        let result = on_backend!(self.purge_queued(plugin, now_ms));
        self.health.observe(&result);
        result
    }
}
