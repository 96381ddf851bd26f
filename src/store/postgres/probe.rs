//! A write for the readiness check while writes fail.

use super::PostgresStore;
use crate::store::error::Result;

/// Bytes the probe writes, as an event's payload might.
const PROBE_BYTES: usize = 8192;

impl PostgresStore {
    /// Writes and deletes a row of [`PROBE_BYTES`] in one transaction.
    pub async fn probe_write(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO write_probe (filler) VALUES ($1)")
            .bind(vec![0_u8; PROBE_BYTES])
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM write_probe")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
