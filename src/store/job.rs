//! Jobs as the store hands them out and reports them: claimed for delivery, or
//! summarized for an operator.

use herald_plugin_api::Event;
use serde_json::{Map, Value};

/// Where a job stands. Stored as its lowercase name (`pending`, `delivered`,
/// `dead`, `skipped`), which the SQL text compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting to be delivered, or being delivered under a lease.
    Pending,
    /// Done.
    Delivered,
    /// Given up on: a dead letter, until replayed or purged.
    Dead,
    /// Not sent: its rule's `when` no longer held at delivery (the reason is
    /// its `last_error`). Done, like delivered.
    Skipped,
    /// Waiting for a fix: a template failed to render for it (the reason is its
    /// `last_error`). A good reload queues it again with no attempt counted.
    Held,
}

impl JobStatus {
    /// The name the database stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
            Self::Skipped => "skipped",
            Self::Held => "held",
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status equals its stored name, so an assertion can read `status == "dead"`.
impl PartialEq<&str> for JobStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A job a worker has claimed, with everything needed to deliver it.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub event: Event,
    pub rule: String,
    /// The action's index in its rule.
    pub action_index: usize,
    /// How often it was handed over so far: 0 while the action's own instance has
    /// it, `n` while fallback `n` (1-based) does.
    pub failovers: u32,
    pub plugin: String,
    pub params: Map<String, Value>,
    pub idempotency_key: String,
    /// This attempt's number, starting at 1.
    pub attempt: u32,
    /// Attempts since the job was queued or last replayed, this one included:
    /// what the retry budget counts.
    pub attempts_since_queued: u32,
    /// When the job was queued or last replayed (Unix ms): what the retry age counts from.
    pub queued_at_ms: i64,
}

/// A job as an operator or a test sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobSummary {
    /// The job's row id.
    pub id: i64,
    /// The source that received its event (`stripe`).
    pub source: String,
    /// The provider's id of its event.
    pub event_id: String,
    /// Its event's type.
    pub event_type: String,
    /// The rule that planned it.
    pub rule: String,
    /// The plugin instance it is for.
    pub plugin: String,
    /// What the instance sends along so the receiver can drop a repeat.
    pub idempotency_key: String,
    /// Pending, delivered or dead.
    pub status: JobStatus,
    /// Attempts ever made.
    pub attempts: u32,
    /// How often it was handed over to the next of its action's fallbacks.
    pub failovers: u32,
    /// The instance that delivered it; `None` until it is delivered.
    pub delivered_by: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it became a dead letter (Unix ms).
    pub dead_at_ms: Option<i64>,
}

/// Which dead letters an operator means; unset fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobFilter {
    /// These jobs only; an empty list matches no job (it never means "any").
    pub job_ids: Option<Vec<i64>>,
    /// Jobs of this provider event id (`evt_…`).
    pub event_id: Option<String>,
    /// Jobs planned by this rule.
    pub rule: Option<String>,
    /// Jobs for this plugin instance.
    pub plugin: Option<String>,
    /// Dead since this Unix millisecond (inclusive).
    pub since_ms: Option<i64>,
    /// Dead before this Unix millisecond (exclusive).
    pub until_ms: Option<i64>,
}

/// What storing a webhook came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new event, with this many jobs.
    Stored { jobs: usize },
    /// The event was already stored: acknowledged again, nothing new created.
    Duplicate,
}

/// The result of re-delivering a stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Redelivered {
    /// Jobs the event already had, queued again.
    pub requeued: u64,
    /// Jobs for rules that match now but had not when the event arrived.
    pub added: u64,
}

/// What pruning removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    pub events: u64,
    pub jobs: u64,
    pub attempts: u64,
}
