//! Delivery attempts: what a worker reports, and what becomes of the job.

use super::job::JobStatus;

/// How an attempt ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The plugin instance that made the attempt.
    pub plugin: String,
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
    /// Not attempted: the rule's `when` no longer holds; the job is done, unsent.
    Skipped,
    /// Not deliverable until the templates are fixed: the job waits for a reload.
    Held,
}

impl AttemptOutcome {
    /// The attempt's `outcome` column, the job's new status, and its next `run_at` if any.
    pub(super) fn columns(self) -> (&'static str, JobStatus, Option<i64>) {
        match self {
            Self::Delivered => ("delivered", JobStatus::Delivered, None),
            Self::RetryAt(at) => ("retry", JobStatus::Pending, Some(at)),
            Self::Failed => ("failed", JobStatus::Dead, None),
            Self::Exhausted => ("retry", JobStatus::Dead, None),
            Self::Skipped => ("skipped", JobStatus::Skipped, None),
            Self::Held => ("held", JobStatus::Held, None),
        }
    }
}

/// A delivery attempt to record, queued for a group commit.
#[derive(Debug, Clone)]
pub(super) struct NewAttempt {
    pub job_id: i64,
    pub attempt: u32,
    pub record: AttemptRecord,
}

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttemptSummary {
    pub attempt: u32,
    /// The plugin instance that made it: the action's, or one of its fallbacks.
    pub plugin: String,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub outcome: String,
    pub error: Option<String>,
}
