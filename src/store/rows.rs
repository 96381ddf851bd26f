//! Rows as both backends read them: each backend owns its SQL, and the columns
//! it selects come back into these types, written once.

use herald_plugin_api::{Event, Payload};

use super::attempt::AttemptSummary;
use super::error::{Result, StoreError};
use super::job::{JobStatus, JobSummary};

/// The columns [`JobSummaryRow`] reads, joined with their event; the same SQL on
/// both backends.
pub(super) const JOB_SUMMARY_SELECT: &str =
    "SELECT j.id, e.source, e.event_id, e.kind, j.rule, j.plugin, j.idempotency_key, j.status, j.attempts,
            j.failovers, j.last_error, j.dead_at
     FROM jobs j JOIN events e ON e.pk = j.event_pk";

/// A job joined with its event, as [`JOB_SUMMARY_SELECT`] reads it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct JobSummaryRow {
    id: i64,
    source: String,
    event_id: String,
    kind: String,
    rule: String,
    plugin: String,
    idempotency_key: String,
    status: JobStatus,
    attempts: i64,
    failovers: i64,
    last_error: Option<String>,
    dead_at: Option<i64>,
}

impl From<JobSummaryRow> for JobSummary {
    fn from(row: JobSummaryRow) -> Self {
        Self {
            id: row.id,
            source: row.source,
            event_id: row.event_id,
            event_type: row.kind,
            rule: row.rule,
            delivered_by: (row.status == JobStatus::Delivered).then(|| row.plugin.clone()),
            plugin: row.plugin,
            idempotency_key: row.idempotency_key,
            status: row.status,
            attempts: to_u32(row.attempts),
            failovers: to_u32(row.failovers),
            last_error: row.last_error,
            dead_at_ms: row.dead_at,
        }
    }
}

/// The columns [`AttemptRow`] reads, for one job (`job_id` bound as the only parameter).
pub(super) const ATTEMPT_COLUMNS: &str = "attempt, plugin, started_at, finished_at, outcome, error";

/// One recorded attempt.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct AttemptRow {
    attempt: i64,
    plugin: String,
    started_at: i64,
    finished_at: i64,
    outcome: String,
    error: Option<String>,
}

impl From<AttemptRow> for AttemptSummary {
    fn from(row: AttemptRow) -> Self {
        Self {
            attempt: to_u32(row.attempt),
            plugin: row.plugin,
            started_at_ms: row.started_at,
            finished_at_ms: row.finished_at,
            outcome: row.outcome,
            error: row.error,
        }
    }
}

/// A job a claim leased, as its `RETURNING` clause reads it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ClaimRow {
    pub id: i64,
    pub event_pk: i64,
    pub rule: String,
    pub action_index: i64,
    pub plugin: String,
    /// The action's parameters as JSON.
    pub params: String,
    pub idempotency_key: String,
    pub attempts: i64,
    pub attempt_base: i64,
    pub queued_at: i64,
    pub failovers: i64,
}

/// A stored event: its pk, the normalized event and the body as received.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct EventRow {
    pub pk: i64,
    /// The normalized event as JSON.
    pub normalized: String,
    /// The body as received.
    pub payload: String,
}

impl EventRow {
    /// The event, its payload as received.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored JSON does not read back.
    pub(super) fn into_event(self) -> Result<Event> {
        let mut event: Event = serde_json::from_str(&self.normalized)
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", self.pk)))?;
        // Checked to be JSON on receipt; parsed only if a plugin reads it as a tree.
        event.raw = Payload::from_text(self.payload);
        Ok(event)
    }
}

/// Counts read back from the database are never negative nor beyond `u32`; clamp
/// rather than fail if a hand-edited row says otherwise.
pub(super) fn to_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}
