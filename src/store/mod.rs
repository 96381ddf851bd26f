//! Store stage: events, jobs and attempts, durably.
//!
//! An event and the jobs its rules planned are written in one transaction, and the
//! webhook is only acknowledged after it commits. Workers claim due jobs with a
//! lease that names them and that they renew while they deliver (`leases`),
//! deliver outside any transaction, and record each attempt.

mod attempt;
mod claim;
mod cursor;
mod error;
mod events;
mod group_commit;
mod job;
mod listing;
mod new_event;
mod postgres;
mod rows;
mod shared_events;
mod sqlite;
mod write_health;

use herald_plugin_api::Event;
use herald_plugin_inventory::ledger::{LedgerError as StockLedgerError, StockLedger, StockMove};
use herald_plugin_orders::ledger::{Fact, Fold, LedgerError, OrderLedger, OrderState};
use secrecy::ExposeSecret;

pub use self::attempt::{AttemptOutcome, AttemptRecord, AttemptSummary};
pub use self::backfill::{EventJobs, EventPage, StoredEvent};
pub use self::error::{Result, StoreError};
pub use self::events::{
    EventCursor, EventDetail, EventFilter, EventJob, EventListing, EventStatus, JobCounts,
};
pub use self::failover::Handover;
pub use self::job::{
    ClaimedJob, IngestOutcome, JobFilter, JobStatus, JobSummary, Pruned, Redelivered,
};
pub use self::listing::EventSummary;
use self::new_event::NewEvent;
pub use self::new_event::NewJob;
pub use self::orders::OrderListing;
use self::postgres::PostgresStore;
use self::sqlite::SqliteStore;
pub use self::stats::QueueDepth;
use self::write_health::WriteHealth;
use crate::config::DatabaseSettings;

/// The database behind herald; the backend is chosen by the URL.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Writes failed since the last that committed, for the readiness check.
    health: WriteHealth,
}

/// One backend per database kind; each file owns its SQL.
#[derive(Clone)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Calls the same method on whichever backend is in use.
macro_rules! on_backend {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(store) => store.$method($($arg),*).await,
            Backend::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

// After the macro, which they use.
mod backfill;
mod failover;
mod leases;
mod orders;
mod queued;
mod stats;

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
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres(PostgresStore::connect(url, &settings.display).await?)
        } else {
            Backend::Sqlite(SqliteStore::connect(url, &settings.display).await?)
        };
        Ok(Self {
            backend,
            health: WriteHealth::default(),
        })
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<()> {
        on_backend!(self.ping())
    }

    /// Writes that failed for the database's sake (a full disk, I/O, a lost fsync)
    /// since the last write that committed; 0 when writes go through.
    pub fn failing_writes(&self) -> u64 {
        self.health.failing()
    }

    /// A small durable write that needs free space, counted like any other: while
    /// writes fail, the readiness check uses it to see whether they work again.
    ///
    /// # Errors
    /// When the write does not commit.
    pub async fn probe_write(&self) -> Result<()> {
        let result = on_backend!(self.probe_write());
        self.health.observe(&result);
        result
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
        let row = NewEvent::new(event, jobs, received_at_ms)?;
        let result = on_backend!(self.ingest(row));
        self.health.observe(&result);
        result
    }

    /// A stored event (by provider event id), payload included.
    ///
    /// # Errors
    /// On a database error, or when the stored event does not read back.
    pub async fn event(&self, source: &str, event_id: &str) -> Result<Option<Event>> {
        on_backend!(self.event(source, event_id))
    }

    /// Claims up to `limit` due jobs for this instance, hiding each from other
    /// workers until `lease_ms` from `now_ms`, or longer while
    /// [`Store::heartbeat`] renews it; a worker that dies leaves them to be taken
    /// back. Jobs for the plugin instances in `skip` stay in the queue.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
        skip: &[String],
    ) -> Result<Vec<ClaimedJob>> {
        on_backend!(self.claim_due(now_ms, lease_ms, limit, skip))
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
        let result = on_backend!(self.record_attempt(job_id, attempt, record));
        self.health.observe(&result);
        result
    }

    /// The jobs of an event (by provider event id), in creation order.
    ///
    /// # Errors
    /// On a database error.
    pub async fn jobs_for_event(&self, source: &str, event_id: &str) -> Result<Vec<JobSummary>> {
        on_backend!(self.jobs_for_event(source, event_id))
    }

    /// The recorded attempts of one job, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn attempts(&self, job_id: i64) -> Result<Vec<AttemptSummary>> {
        on_backend!(self.attempts(job_id))
    }

    /// Gives a claimed job back without counting its attempt `attempt`, due again
    /// at `run_at_ms` (used while a destination's circuit breaker is open), if
    /// this instance's claim still holds it.
    ///
    /// # Errors
    /// On a database error.
    pub async fn defer(&self, job_id: i64, attempt: u32, run_at_ms: i64) -> Result<()> {
        on_backend!(self.defer(job_id, attempt, run_at_ms))
    }

    /// One job.
    ///
    /// # Errors
    /// On a database error.
    pub async fn job(&self, job_id: i64) -> Result<Option<JobSummary>> {
        on_backend!(self.job(job_id))
    }

    /// Dead letters matching `filter`, oldest death first, at most `limit`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn dead_letters(&self, filter: &JobFilter, limit: usize) -> Result<Vec<JobSummary>> {
        on_backend!(self.dead_letters(filter, limit))
    }

    /// Queues every held job again (their templates were fixed, or a reload may have
    /// fixed them) with a fresh retry budget, due at `now_ms`. Returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn release_held(&self, now_ms: i64) -> Result<u64> {
        let result = on_backend!(self.release_held(now_ms));
        self.health.observe(&result);
        result
    }

    /// Queues dead letters `job_ids` again with a fresh retry budget; other jobs
    /// are left alone. Returns how many were queued.
    ///
    /// # Errors
    /// On a database error.
    pub async fn requeue(&self, job_ids: &[i64], now_ms: i64) -> Result<u64> {
        on_backend!(self.requeue(job_ids, now_ms))
    }

    /// Delivers a stored event again: every job it has (delivered, dead, or
    /// pending and not leased right now) is queued anew at `now_ms`, and those of
    /// `planned` it does not have yet (by idempotency key) are added. The caller
    /// plans them from the event ([`Store::event`]); the store checks, in the same
    /// transaction, that the event is still there. `None` when it is not.
    ///
    /// # Errors
    /// On a database error.
    pub async fn redeliver_event(
        &self,
        source: &str,
        event_id: &str,
        planned: &[NewJob],
        now_ms: i64,
    ) -> Result<Option<Redelivered>> {
        on_backend!(self.redeliver_event(source, event_id, planned, now_ms))
    }

    /// Deletes dead letters `job_ids` and their attempts, for good.
    ///
    /// # Errors
    /// On a database error.
    pub async fn purge_dead(&self, job_ids: &[i64]) -> Result<u64> {
        on_backend!(self.purge_dead(job_ids))
    }

    /// Deletes events received before `before_ms` whose jobs are all delivered,
    /// with their jobs and attempts. Dead letters and pending jobs keep their event.
    ///
    /// # Errors
    /// On a database error.
    pub async fn prune_delivered(&self, before_ms: i64) -> Result<Pruned> {
        on_backend!(self.prune_delivered(before_ms))
    }

    /// Stored events matching `filter`, newest received first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn events(&self, filter: &EventFilter) -> Result<Vec<EventListing>> {
        on_backend!(self.events(filter))
    }

    /// One stored event with its jobs and their attempts; `None` when not stored.
    ///
    /// # Errors
    /// On a database error, or when the stored event does not read back.
    pub async fn event_detail(&self, source: &str, event_id: &str) -> Result<Option<EventDetail>> {
        on_backend!(self.event_detail(source, event_id))
    }

    /// The stored events of order `order_id` (oldest first, at most a few
    /// hundred) and the facts the orders plugin recorded for it.
    ///
    /// # Errors
    /// On a database error, or when a stored event does not read back.
    pub async fn order_record(&self, order_id: &str) -> Result<(Vec<Event>, Vec<Fact>)> {
        let events = on_backend!(self.order_events(order_id))?;
        let facts = on_backend!(self.order(order_id))?.map_or_else(Vec::new, |(_, facts)| facts);
        Ok((events, facts))
    }

    /// How many events are stored.
    ///
    /// # Errors
    /// On a database error.
    pub async fn event_count(&self) -> Result<i64> {
        on_backend!(self.event_count())
    }
}

/// herald's database is the orders plugin's ledger, on either backend.
#[herald_plugin_api::async_trait]
impl OrderLedger for Store {
    async fn apply(
        &self,
        order_id: &str,
        fact: &Fact,
        fold: &Fold,
    ) -> std::result::Result<Option<OrderState>, LedgerError> {
        on_backend!(self.apply_order_fact(order_id, fact, fold))
            .map_err(|err| LedgerError(err.to_string()))
    }

    async fn get(
        &self,
        order_id: &str,
    ) -> std::result::Result<Option<(OrderState, Vec<Fact>)>, LedgerError> {
        on_backend!(self.order(order_id)).map_err(|err| LedgerError(err.to_string()))
    }
}

/// herald's database is the inventory plugin's stock ledger, on either backend.
#[herald_plugin_api::async_trait]
impl StockLedger for Store {
    async fn apply(
        &self,
        key: &str,
        event_id: &str,
        moves: &[StockMove],
    ) -> std::result::Result<bool, StockLedgerError> {
        let result = on_backend!(self.apply_stock_moves(key, event_id, moves));
        self.health.observe(&result);
        result.map_err(|err| match err {
            StoreError::StockOverflow(overflow) => StockLedgerError::Overflow(overflow),
            other => StockLedgerError::Unavailable(other.to_string()),
        })
    }

    async fn levels(
        &self,
        sku: Option<&str>,
    ) -> std::result::Result<Vec<(String, i64)>, StockLedgerError> {
        on_backend!(self.stock_levels(sku))
            .map_err(|err| StockLedgerError::Unavailable(err.to_string()))
    }
}
