//! Store stage: events, jobs and attempts, durably.
//!
//! An event and the jobs its rules planned are written in one transaction, and the
//! webhook is only acknowledged after it commits. Workers claim due jobs with a
//! lease, deliver outside any transaction, and record each attempt.

mod error;
mod sqlite;

use herald_plugin_api::Event;
use secrecy::ExposeSecret;
use serde_json::{Map, Value};

pub use self::error::{Result, StoreError};
use self::sqlite::SqliteStore;
use crate::config::DatabaseSettings;
use crate::rules::PlannedJob;

/// The database behind herald; the backend is chosen by the URL.
#[derive(Clone)]
pub struct Store {
    backend: SqliteStore,
}

/// What storing a webhook came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new event, with this many jobs.
    Stored { jobs: usize },
    /// The event was already stored: acknowledged again, nothing new created.
    Duplicate,
}

/// A job a worker has claimed, with everything needed to deliver it.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub event: Event,
    pub rule: String,
    pub plugin: String,
    pub params: Map<String, Value>,
    pub idempotency_key: String,
    /// This attempt's number, starting at 1.
    pub attempt: u32,
}

/// How an attempt ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
}

/// The attempt's result and what becomes of the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Done; the job is finished.
    Delivered,
    /// Failed temporarily; try again at this Unix millisecond.
    RetryAt(i64),
    /// Failed permanently: the job becomes a dead letter.
    Failed,
    /// Failed temporarily once too often: the job becomes a dead letter.
    Exhausted,
}

/// A job as an operator or a test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSummary {
    pub id: i64,
    pub event_id: String,
    pub rule: String,
    pub plugin: String,
    pub idempotency_key: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptSummary {
    pub attempt: u32,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub outcome: String,
    pub error: Option<String>,
}

impl Store {
    /// Opens the database and runs pending migrations.
    ///
    /// # Errors
    /// When the database cannot be opened or migrated.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self> {
        let backend = SqliteStore::connect(settings.url.expose_secret(), &settings.display).await?;
        Ok(Self { backend })
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<()> {
        self.backend.ping().await
    }

    /// Stores `event` (received as `payload`) and its planned jobs in one transaction.
    ///
    /// # Errors
    /// When the transaction does not commit; nothing is stored then.
    pub async fn ingest(
        &self,
        event: &Event,
        payload: &[u8],
        jobs: &[PlannedJob],
    ) -> Result<IngestOutcome> {
        self.backend.ingest(event, payload, jobs).await
    }

    /// Claims up to `limit` due jobs, hiding each from other workers until `lease_ms`
    /// from `now_ms`; a worker that dies leaves them to be claimed again then.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<ClaimedJob>> {
        self.backend.claim_due(now_ms, lease_ms, limit).await
    }

    /// Records an attempt of job `job_id` and moves the job on.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_attempt(
        &self,
        job_id: i64,
        attempt: u32,
        record: &AttemptRecord,
    ) -> Result<()> {
        self.backend.record_attempt(job_id, attempt, record).await
    }

    /// The jobs of an event (by provider event id), in creation order.
    ///
    /// # Errors
    /// On a database error.
    pub async fn jobs_for_event(&self, source: &str, event_id: &str) -> Result<Vec<JobSummary>> {
        self.backend.jobs_for_event(source, event_id).await
    }

    /// The recorded attempts of one job, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn attempts(&self, job_id: i64) -> Result<Vec<AttemptSummary>> {
        self.backend.attempts(job_id).await
    }

    /// How many events are stored.
    ///
    /// # Errors
    /// On a database error.
    pub async fn event_count(&self) -> Result<i64> {
        self.backend.event_count().await
    }
}
