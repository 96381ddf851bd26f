//! A write that needs free space, for the readiness check while writes fail.

use super::{one_trip, SqliteStore};
use crate::store::error::Result;

/// Bytes the probe writes: more than a page, so it needs pages of its own (from the
/// free list, or by growing the file) as an event's payload does.
const PROBE_BYTES: i64 = 8192;

impl SqliteStore {
    /// Writes and deletes a row of [`PROBE_BYTES`] in one durable transaction.
    pub async fn probe_write(&self) -> Result<()> {
        let mut query = one_trip::transaction();
        query
            .push("INSERT INTO write_probe (filler) VALUES (zeroblob(")
            .push_bind(PROBE_BYTES)
            .push("));\nDELETE FROM write_probe;");
        let write = self.writer.durable().await?;
        let (_, unsynced) = write.commit_one_trip(query).await?;
        unsynced.synced().await
    }

    /// Caps the file at its current size, or lifts the cap, so a test sees writes
    /// fail with a real `SQLITE_FULL`, as on a full disk.
    pub async fn cap_size(&self, capped: bool) -> Result<()> {
        // A cap below the file's size is raised to it; the largest value means none.
        let pages = if capped { 1 } else { u32::MAX - 1 };
        let mut write = self.writer.lossy().await?;
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(&mut *write)
            .await?;
        Ok(())
    }
}
