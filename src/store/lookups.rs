//! One stored thing by its id: an event, an event's jobs, a job's attempts.

use herald_plugin_api::Event;

use super::attempt::AttemptSummary;
use super::error::Result;
use super::job::JobSummary;
use super::rows::{AttemptRow, EventRow, JobSummaryRow, ATTEMPT_COLUMNS, JOB_SUMMARY_SELECT};
use super::sql::{Run, Sql};
use super::Store;

impl Store {
    /// A stored event (by provider event id), payload included.
    ///
    /// # Errors
    /// On a database error, or when the stored event does not read back.
    pub async fn event(&self, source: &str, event_id: &str) -> Result<Option<Event>> {
        let sql = Sql::new(
            "SELECT pk, normalized, payload FROM events WHERE source = $1 AND event_id = $2",
        )
        .bind(source)
        .bind(event_id);
        let row: Option<EventRow> = self.read().await?.fetch_optional(&sql).await?;
        row.map(EventRow::into_event).transpose()
    }

    /// The jobs of an event (by provider event id), in creation order.
    ///
    /// # Errors
    /// On a database error.
    pub async fn jobs_for_event(&self, source: &str, event_id: &str) -> Result<Vec<JobSummary>> {
        let sql = Sql::new(format!(
            "{JOB_SUMMARY_SELECT} WHERE e.source = $1 AND e.event_id = $2 ORDER BY j.id"
        ))
        .bind(source)
        .bind(event_id);
        let rows: Vec<JobSummaryRow> = self.read().await?.fetch_all(&sql).await?;
        Ok(rows.into_iter().map(JobSummary::from).collect())
    }

    /// The recorded attempts of one job, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn attempts(&self, job_id: i64) -> Result<Vec<AttemptSummary>> {
        let sql = Sql::new(format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE job_id = $1 ORDER BY id"
        ))
        .bind(job_id);
        let rows: Vec<AttemptRow> = self.read().await?.fetch_all(&sql).await?;
        Ok(rows.into_iter().map(AttemptSummary::from).collect())
    }

    /// How many events are stored.
    ///
    /// # Errors
    /// On a database error.
    pub async fn event_count(&self) -> Result<i64> {
        let count = self
            .read()
            .await?
            .scalar(&Sql::new("SELECT COUNT(*) FROM events"))
            .await?;
        Ok(count.unwrap_or(0))
    }

    /// Which of `event_ids` of `source` are stored.
    ///
    /// # Errors
    /// On a database error.
    pub async fn stored_event_ids(
        &self,
        source: &str,
        event_ids: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let sql = Sql::new(format!(
            "SELECT event_id FROM events WHERE source = $1 AND event_id {}",
            self.dialect().any(2)
        ))
        .bind(source)
        .bind(event_ids);
        let found: Vec<String> = self.read().await?.scalars(&sql).await?;
        Ok(found.into_iter().collect())
    }
}
