//! Store stage: events, jobs and attempts, durably.
//!
//! An event and the jobs its rules planned are written in one transaction, and the
//! webhook is only acknowledged after it commits. Workers claim due jobs with a
//! lease that names them and that they renew while they deliver (`leases`),
//! deliver outside any transaction, and record each attempt.

mod admin;
mod alerts;
mod attempt;
mod backend;
mod claim;
mod cursor;
mod customers;
mod digests;
mod error;
mod event_pages;
mod events;
mod failover;
mod followups;
mod group_commit;
mod inventory;
mod job;
mod leases;
mod links;
mod listing;
mod lookups;
mod new_event;
mod orders;
mod postgres;
mod probe;
mod queued;
mod report;
mod rows;
mod schedules;
mod shared_events;
mod signals;
mod sql;
mod sqlite;
mod stats;
mod subscriptions;
mod thin;
mod write_health;

use std::sync::Arc;

use herald_plugin_api::Event;
use secrecy::ExposeSecret;

pub use self::alerts::{DeadGroup, OpenAlert};
use self::attempt::NewAttempt;
pub use self::attempt::{AttemptOutcome, AttemptRecord, AttemptSummary};
use self::backend::Backend;
pub use self::customers::Contact;
pub use self::error::{Result, StoreError};
pub use self::event_pages::{EventJobs, EventPage, StoredEvent};
pub use self::events::{
    EventCursor, EventDetail, EventFilter, EventJob, EventListing, EventStatus, JobCounts,
};
pub use self::failover::Handover;
pub use self::followups::PendingFollowUp;
pub use self::job::{
    ClaimedJob, IngestOutcome, JobFilter, JobStatus, JobSummary, Pruned, Redelivered,
};
pub use self::links::{resolves, Resolution};
pub use self::listing::EventSummary;
use self::new_event::NewEvent;
pub use self::new_event::{NewJob, Planned};
pub use self::orders::OrderListing;
use self::postgres::PostgresStore;
pub use self::report::BalanceFee;
pub use self::schedules::{ScheduleRow, Turn};
use self::sqlite::SqliteStore;
pub use self::stats::QueueDepth;
pub use self::thin::WaitingThin;
use self::write_health::WriteHealth;
use crate::config::DatabaseSettings;

/// The database behind herald; the backend is chosen by the URL.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Writes failed since the last that committed, for the readiness check.
    health: WriteHealth,
    /// This process's name on the leases it takes (see `leases`).
    instance: Arc<str>,
}

/// The most writes one group commit takes: enough to spread an fsync over a flash
/// sale's burst, few enough that a batch stays well under SQLite's bound-parameter
/// limit and a failed batch is cheap to retry write by write.
const GROUP_COMMIT_MAX: usize = 256;

/// New events wait a moment for company when only a few are queued: at a steady
/// moderate rate a batch otherwise holds one or two, and its transaction rewrites
/// the same table and index pages as a batch of ten.
const INGEST_LINGER: group_commit::Linger = group_commit::Linger {
    enough: 8,
    max: std::time::Duration::from_millis(1),
};

/// Attempt records on SQLite wait longer: nobody is answered on them, and a
/// delivery's slot is already free while its record waits. Not on PostgreSQL,
/// whose attempt writer is busy nearly all the time under load: a wait there
/// starved the dispatcher's claims.
const ATTEMPTS_LINGER: group_commit::Linger = group_commit::Linger {
    enough: 32,
    max: std::time::Duration::from_millis(5),
};

impl Store {
    /// Opens the database and runs pending migrations.
    ///
    /// # Errors
    /// When the database cannot be opened or migrated.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self> {
        let url = settings.url.expose_secret();
        let instance = leases::new_instance_id();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let store = PostgresStore::connect(url, &settings.display, instance.clone()).await?;
            Backend::Postgres(store)
        } else {
            let store = SqliteStore::connect(url, &settings.display, instance.clone()).await?;
            Backend::Sqlite(store)
        };
        Ok(Self {
            backend,
            health: WriteHealth::default(),
            instance,
        })
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(store) => store.ping().await,
            Backend::Postgres(store) => store.ping().await,
        }
    }

    /// Writes that failed for the database's sake (a full disk, I/O, a lost fsync)
    /// since the last write that committed; 0 when writes go through.
    pub fn failing_writes(&self) -> u64 {
        self.health.failing()
    }

    /// Caps the SQLite file at its current size (or lifts the cap), so writes fail
    /// with a real `SQLITE_FULL` as on a full disk. For tests; PostgreSQL has no such
    /// cap and is left alone.
    ///
    /// # Errors
    /// When the writer connection cannot be had.
    #[doc(hidden)]
    pub async fn cap_sqlite_size(&self, capped: bool) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(store) => store.cap_size(capped).await,
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Stores `event`, its payload (`event.raw`) and its planned jobs in one
    /// transaction; `received_at_ms` (Unix ms) is when it arrived, and when its
    /// jobs are first due.
    ///
    /// # Errors
    /// When the transaction does not commit; nothing is stored then.
    ///
    /// Concurrent calls share transactions (group commit); each returns once its own
    /// event has committed.
    pub async fn ingest(
        &self,
        event: &Event,
        jobs: Vec<NewJob>,
        received_at_ms: i64,
    ) -> Result<IngestOutcome> {
        let planned = Planned {
            jobs,
            marks: Vec::new(),
        };
        self.ingest_planned(event, planned, received_at_ms).await
    }

    /// [`Store::ingest`] of what the rules planned for `event`: its jobs, and the
    /// marks a follow-up's `unless` will look for it under.
    ///
    /// # Errors
    /// As [`Store::ingest`].
    pub async fn ingest_planned(
        &self,
        event: &Event,
        planned: Planned,
        received_at_ms: i64,
    ) -> Result<IngestOutcome> {
        let mut row = NewEvent::new(event, planned.jobs, received_at_ms)?;
        row.marks = planned.marks;
        let result = self.ingest_writer().submit(row).await;
        self.health.observe(&result);
        result
    }

    /// Records attempt `attempt` of job `job_id` and moves the job on, if this
    /// instance's claim of that attempt still holds it (see `leases`).
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_attempt(
        &self,
        job_id: i64,
        attempt: u32,
        record: &AttemptRecord,
    ) -> Result<()> {
        let result = self
            .attempt_writer()
            .submit(NewAttempt {
                job_id,
                attempt,
                record: record.clone(),
            })
            .await;
        self.health.observe(&result);
        result
    }
}
