//! Events as an operator lists and inspects them (`herald events`, `herald event`):
//! the filter, what a listing and a detail hold, and the SQL both backends share.
//!
//! An event's status is derived from its jobs, never stored: `dead` when any job
//! is dead (someone must act, even while others still wait), otherwise `pending`
//! while any job waits, otherwise `skipped` when any job was skipped at delivery,
//! otherwise `delivered`, which includes an event that no rule matched and so has
//! no jobs.

use herald_plugin_api::Event;

use super::attempt::AttemptSummary;
pub use super::cursor::EventCursor;
use super::error::{Result, StoreError};
use super::job::JobStatus;
use super::links::Resolution;
pub use super::listing::EventListing;
use super::listing::{EventListingRow, EVENT_LIST_ORDER, EVENT_LIST_SELECT};
use super::rows::{to_u32, AttemptRow, EventRow};
use super::sql::{Run, Sql};
use super::Store;

/// Where an event stands, from its jobs (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    /// A job is still waiting (or being delivered), none is dead.
    Pending,
    /// Every job is delivered, or the event has none.
    Delivered,
    /// At least one job is a dead letter.
    Dead,
    /// Every job is done, and at least one was skipped at delivery.
    Skipped,
}

impl EventStatus {
    /// The status of an event whose jobs are in these states.
    pub fn from_counts(counts: JobCounts) -> Self {
        if counts.dead > 0 {
            Self::Dead
        } else if counts.pending > 0 {
            Self::Pending
        } else if counts.skipped > 0 {
            Self::Skipped
        } else {
            Self::Delivered
        }
    }

    /// The lowercase name, as `--status` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
            Self::Skipped => "skipped",
        }
    }

    /// The SQL condition over `e` (events) that holds for events in this status.
    /// Dead and pending go through the partial indexes `jobs_dead` and `jobs_due`,
    /// which hold only those jobs, so a listing of the few events that need a look
    /// does not read every event's jobs; delivered is the common case and is checked
    /// per event while walking `events_received`.
    fn sql(self) -> &'static str {
        match self {
            Self::Dead => " AND e.pk IN (SELECT j.event_pk FROM jobs j WHERE j.status = 'dead')",
            Self::Pending => {
                " AND e.pk IN (SELECT j.event_pk FROM jobs j WHERE j.status IN ('pending', 'held'))
                  AND e.pk NOT IN (SELECT j.event_pk FROM jobs j WHERE j.status = 'dead')"
            }
            Self::Delivered => {
                " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_pk = e.pk AND j.status != 'delivered')"
            }
            Self::Skipped => {
                " AND EXISTS (SELECT 1 FROM jobs j WHERE j.event_pk = e.pk AND j.status = 'skipped')
                  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_pk = e.pk
                                  AND j.status IN ('pending', 'held', 'dead'))"
            }
        }
    }
}

impl std::fmt::Display for EventStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many of an event's jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct JobCounts {
    pub pending: u32,
    pub delivered: u32,
    pub dead: u32,
    pub skipped: u32,
}

/// Which events an operator lists; unset fields match everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    /// An event type, or a pattern in the language of a rule's `on` (`charge.*`),
    /// already validated: letters, digits, `_`, `.` and the `*` wildcard only.
    pub kind: Option<String>,
    /// The shop's order id, as normalized from the event's metadata.
    pub order_id: Option<String>,
    pub status: Option<EventStatus>,
    /// Received at or after this Unix millisecond.
    pub since_ms: Option<i64>,
    /// Received before this Unix millisecond.
    pub until_ms: Option<i64>,
    /// Only events listed after this one: the next page of a listing.
    pub after: Option<EventCursor>,
    /// At most this many, newest first.
    pub limit: usize,
}

impl Store {
    /// Stored events matching `filter`, newest received first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn events(&self, filter: &EventFilter) -> Result<Vec<EventListing>> {
        let mut sql = Sql::new(EVENT_LIST_SELECT);
        if let Some(kind) = &filter.kind {
            let (operator, pattern) = self.dialect().glob(kind);
            sql.push(" AND e.kind");
            sql.push_bound(operator, pattern);
        }
        if let Some(order_id) = &filter.order_id {
            sql.push_bound(" AND e.order_id = {}", order_id);
        }
        if let Some(status) = filter.status {
            sql.push(status.sql());
        }
        if let Some(since) = filter.since_ms {
            sql.push_bound(" AND e.received_at >= {}", since);
        }
        if let Some(until) = filter.until_ms {
            sql.push_bound(" AND e.received_at < {}", until);
        }
        if let Some(after) = filter.after {
            after.push_to(&mut sql);
        }
        sql.push_bound(
            EVENT_LIST_ORDER,
            i64::try_from(filter.limit).unwrap_or(i64::MAX),
        );
        let rows: Vec<EventListingRow> = self.read().await?.fetch_all(&sql).await?;
        Ok(rows.into_iter().map(EventListing::from).collect())
    }

    /// One stored event with its jobs and their attempts; `None` when not stored.
    ///
    /// # Errors
    /// On a database error, or when the stored event does not read back.
    pub async fn event_detail(&self, source: &str, event_id: &str) -> Result<Option<EventDetail>> {
        let mut read = self.read().await?;
        // One read transaction seeing one moment, so the jobs and attempts agree.
        let mut tx = read.begin().await?;
        if let Some(snapshot) = tx.dialect().snapshot() {
            tx.execute(&Sql::new(snapshot)).await?;
        }
        let event = Sql::new(format!(
            "{EVENT_DETAIL_SELECT} WHERE source = $1 AND event_id = $2"
        ))
        .bind(source)
        .bind(event_id);
        let Some(event) = tx.fetch_optional::<EventDetailRow>(&event).await? else {
            return Ok(None);
        };
        let jobs = Sql::new(format!(
            "{EVENT_JOBS_SELECT} WHERE event_pk = $1 ORDER BY id"
        ))
        .bind(event.pk);
        let jobs = tx.fetch_all(&jobs).await?;
        let attempts = Sql::new(format!(
            "{EVENT_ATTEMPTS_SELECT} WHERE j.event_pk = $1 ORDER BY a.id"
        ))
        .bind(event.pk);
        let attempts = tx.fetch_all(&attempts).await?;
        tx.commit().await?;
        let mut detail = assemble(event, jobs, attempts)?;
        let event = &detail.event;
        if super::links::resolves(event) {
            detail.resolved = self.resolve(event).await?;
        }
        Ok(Some(detail))
    }
}

/// One stored event with its jobs and every attempt they made.
#[derive(Debug, Clone)]
pub struct EventDetail {
    /// The normalized event; its payload as received is in `event.raw`.
    pub event: Event,
    /// When herald received it, Unix ms.
    pub received_at_ms: i64,
    /// In creation order.
    pub jobs: Vec<EventJob>,
    /// The order and customer id its payload lacks, as found through the links now.
    pub resolved: Resolution,
}

impl EventDetail {
    /// The event's status, from its jobs.
    pub fn status(&self) -> EventStatus {
        EventStatus::from_counts(self.counts())
    }

    /// How many of its jobs are in each state.
    pub fn counts(&self) -> JobCounts {
        let mut counts = JobCounts::default();
        for job in &self.jobs {
            let slot = match job.status {
                // Held jobs wait, as pending ones do.
                JobStatus::Pending | JobStatus::Held => &mut counts.pending,
                JobStatus::Delivered => &mut counts.delivered,
                JobStatus::Dead => &mut counts.dead,
                JobStatus::Skipped => &mut counts.skipped,
            };
            *slot = slot.saturating_add(1);
        }
        counts
    }
}

/// A job of an event, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventJob {
    /// The job's row id.
    pub id: i64,
    /// The rule that planned it.
    pub rule: String,
    /// Which of the rule's actions made it.
    pub action_index: u32,
    /// The plugin instance it is for.
    pub plugin: String,
    /// Pending, delivered or dead.
    pub status: JobStatus,
    /// Attempts ever made.
    pub attempts: u32,
    /// How often it was handed over to the next of its action's fallbacks.
    pub failovers: u32,
    /// The instance that delivered it; `None` until it is delivered.
    pub delivered_by: Option<String>,
    /// When a pending job is due next (Unix ms); `None` once it is done or dead.
    pub next_run_at_ms: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it became a dead letter (Unix ms).
    pub dead_at_ms: Option<i64>,
    /// Oldest first.
    pub history: Vec<AttemptSummary>,
}

/// The event row `event_detail` reads: `pk, normalized, payload, received_at`.
const EVENT_DETAIL_SELECT: &str = "SELECT pk, normalized, payload, received_at FROM events";

/// The jobs of one event (its pk the only parameter), as [`EventJobRow`] reads them.
const EVENT_JOBS_SELECT: &str =
    "SELECT id, rule, action_index, plugin, status, attempts, failovers, run_at, last_error, dead_at FROM jobs";

/// The attempts of one event's jobs, as [`EventAttemptRow`] reads them.
const EVENT_ATTEMPTS_SELECT: &str =
    "SELECT a.job_id, a.attempt, a.plugin, a.started_at, a.finished_at, a.outcome, a.error
     FROM attempts a JOIN jobs j ON j.id = a.job_id";

/// The stored event, as [`EVENT_DETAIL_SELECT`] reads it.
#[derive(Debug, sqlx::FromRow)]
struct EventDetailRow {
    pk: i64,
    normalized: String,
    payload: String,
    received_at: i64,
}

/// A job of the event.
#[derive(Debug, sqlx::FromRow)]
struct EventJobRow {
    id: i64,
    rule: String,
    action_index: i64,
    plugin: String,
    status: JobStatus,
    attempts: i64,
    failovers: i64,
    run_at: i64,
    last_error: Option<String>,
    dead_at: Option<i64>,
}

/// An attempt of one of the event's jobs.
#[derive(Debug, sqlx::FromRow)]
struct EventAttemptRow {
    job_id: i64,
    #[sqlx(flatten)]
    attempt: AttemptRow,
}

/// The detail from its rows.
///
/// # Errors
/// [`StoreError::Corrupt`] when the stored event does not read back.
fn assemble(
    event: EventDetailRow,
    jobs: Vec<EventJobRow>,
    attempts: Vec<EventAttemptRow>,
) -> Result<EventDetail> {
    let received_at_ms = event.received_at;
    let event = EventRow {
        pk: event.pk,
        normalized: event.normalized,
        payload: event.payload,
    }
    .into_event()?;
    let mut jobs: Vec<EventJob> = jobs
        .into_iter()
        .map(|row| EventJob {
            id: row.id,
            rule: row.rule,
            action_index: to_u32(row.action_index),
            delivered_by: (row.status == JobStatus::Delivered).then(|| row.plugin.clone()),
            plugin: row.plugin,
            status: row.status,
            attempts: to_u32(row.attempts),
            failovers: to_u32(row.failovers),
            next_run_at_ms: (row.status == JobStatus::Pending).then_some(row.run_at),
            last_error: row.last_error,
            dead_at_ms: row.dead_at,
            history: Vec::new(),
        })
        .collect();
    for row in attempts {
        let job = jobs
            .iter_mut()
            .find(|job| job.id == row.job_id)
            .ok_or_else(|| StoreError::Corrupt(format!("attempt of missing job {}", row.job_id)))?;
        job.history.push(row.attempt.into());
    }
    Ok(EventDetail {
        event,
        received_at_ms,
        jobs,
        resolved: Resolution::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_job_outranks_a_pending_one_and_no_jobs_is_delivered() {
        let counts = |pending, delivered, dead| JobCounts {
            pending,
            delivered,
            dead,
            skipped: 0,
        };
        assert_eq!(EventStatus::from_counts(counts(1, 0, 1)), EventStatus::Dead);
        assert_eq!(
            EventStatus::from_counts(counts(1, 2, 0)),
            EventStatus::Pending
        );
        assert_eq!(
            EventStatus::from_counts(counts(0, 2, 0)),
            EventStatus::Delivered
        );
        assert_eq!(
            EventStatus::from_counts(JobCounts::default()),
            EventStatus::Delivered
        );
        let skipped = JobCounts {
            skipped: 1,
            ..counts(0, 2, 0)
        };
        assert_eq!(EventStatus::from_counts(skipped), EventStatus::Skipped);
        let waiting = JobCounts {
            skipped: 1,
            ..counts(1, 0, 0)
        };
        assert_eq!(EventStatus::from_counts(waiting), EventStatus::Pending);
    }
}
