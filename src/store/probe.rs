//! A write that needs free space, for the readiness check while writes fail.

use super::error::Result;
use super::sql::{Run, Sql};
use super::{Backend, Store};

/// Bytes the probe writes: more than a SQLite page, so it needs pages of its own
/// (from the free list, or by growing the file) as an event's payload does.
pub(super) const PROBE_BYTES: usize = 8192;

impl Store {
    /// A small durable write that needs free space, counted like any other: while
    /// writes fail, the readiness check uses it to see whether they work again.
    ///
    /// # Errors
    /// When the write does not commit.
    pub async fn probe_write(&self) -> Result<()> {
        let result = async {
            if let Backend::Sqlite(store) = &self.backend {
                // In one trip: a failed commit cannot leave the writer's
                // transaction state behind (see the SQLite writer).
                return store.probe_write().await;
            }
            let mut write = self.durable().await?;
            let mut tx = write.begin().await?;
            let filler = Sql::new("INSERT INTO write_probe (filler) VALUES ($1)")
                .bind(vec![0_u8; PROBE_BYTES]);
            tx.execute(&filler).await?;
            tx.execute(&Sql::new("DELETE FROM write_probe")).await?;
            tx.commit().await
        }
        .await;
        self.health.observe(&result);
        result
    }
}
