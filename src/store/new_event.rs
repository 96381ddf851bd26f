//! An incoming event and its jobs as database rows. The request's own task builds
//! them (serializing is the costly part), so the one writer only binds and executes.

use std::collections::HashSet;

use herald_plugin_api::Event;
use serde_json::{Map, Value};

use super::customers::{batch_contacts, Contact};
use super::error::{Result, StoreError};
use super::job::IngestOutcome;
use crate::rules::PlannedJob;

/// An event row, ready to insert.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The source that received it, e.g. `stripe`; with `event_id`, the key.
    pub source: String,
    /// The provider's event id; a second delivery of it is a duplicate.
    pub event_id: String,
    /// The event type, e.g. `charge.refunded`.
    pub kind: String,
    /// When the provider created it, in Unix seconds.
    pub created: i64,
    /// Whether it is about real money.
    pub livemode: bool,
    /// The id of the Stripe object it is about.
    pub object_id: Option<String>,
    /// The shop's order id, when the payload names one.
    pub order_id: Option<String>,
    /// The normalized event as JSON.
    pub normalized: String,
    /// The body as received.
    pub payload: String,
    /// Unix ms.
    pub received_at: i64,
    /// The jobs its rules planned, inserted in the same transaction.
    pub jobs: Vec<NewJob>,
    /// The links it adds, both ways (see `links`), inserted in the same transaction.
    pub links: Vec<(String, String)>,
    /// The keys a follow-up's `unless` finds it under (see the `unless_marks` table).
    pub marks: Vec<String>,
    /// What it tells of its customer, merged into the directory in the same
    /// transaction (see `customers`).
    pub contact: Option<Contact>,
}

/// A job to queue for an event, as its rules planned it: a row ready to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub(super) rule: String,
    pub(super) action_index: i64,
    pub(super) plugin: String,
    /// The action's parameters as JSON.
    pub(super) params: String,
    pub(super) idempotency_key: String,
    /// When it is first due (ms since the epoch): a follow-up's deadline; `None`
    /// for at once.
    pub(super) run_at: Option<i64>,
}

/// What the rules planned for an event, as the store takes it: its jobs, and the keys
/// it is marked under for follow-ups ([`crate::rules::Rules::unless_keys`]).
#[derive(Debug, Default)]
pub struct Planned {
    pub jobs: Vec<NewJob>,
    pub marks: Vec<String>,
}

impl Planned {
    /// What `rules` plan for `event`.
    pub fn of(rules: &crate::rules::Rules, event: &Event) -> Self {
        Self {
            jobs: rules.plan(event).iter().map(NewJob::from).collect(),
            marks: rules.unless_keys(event),
        }
    }
}

/// A planned job as a row: the store reads the rules' plan, never the other way.
impl From<&PlannedJob> for NewJob {
    fn from(job: &PlannedJob) -> Self {
        Self::new(
            &job.rule,
            job.action_index,
            &job.plugin,
            &job.params,
            &job.idempotency_key,
        )
        .due_at(job.run_at)
    }
}

impl NewEvent {
    /// The rows for `event`, received at `received_at` (Unix ms), and its jobs. The
    /// payload stored is `event.raw`'s text.
    ///
    /// # Errors
    /// When the event cannot be serialized.
    pub fn new(event: &Event, jobs: Vec<NewJob>, received_at: i64) -> Result<Self> {
        let normalized =
            serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Self {
            source: event.source.clone(),
            event_id: event.id.clone(),
            kind: event.kind.clone(),
            created: event.created,
            livemode: event.livemode,
            object_id: event.object_id.clone(),
            order_id: event.order_id.clone(),
            normalized,
            payload: event.raw.text().to_owned(),
            received_at,
            jobs,
            links: super::links::edges(event),
            marks: Vec::new(),
            contact: Contact::of(event),
        })
    }
}

impl NewJob {
    /// Action `action_index` of rule `rule`, for plugin instance `plugin` with
    /// `params`, under `idempotency_key`. The parameters are serialized here, on
    /// the caller's task, so the writer only binds them.
    pub fn new(
        rule: &str,
        action_index: usize,
        plugin: &str,
        params: &Map<String, Value>,
        idempotency_key: &str,
    ) -> Self {
        Self {
            rule: rule.to_owned(),
            action_index: i64::try_from(action_index).unwrap_or(i64::MAX),
            plugin: plugin.to_owned(),
            params: Value::Object(params.clone()).to_string(),
            idempotency_key: idempotency_key.to_owned(),
            run_at: None,
        }
    }

    /// The job first due at `run_at` (ms since the epoch) instead of at once.
    #[must_use]
    pub fn due_at(mut self, run_at: Option<i64>) -> Self {
        self.run_at = run_at;
        self
    }

    /// When the job is first due, given that its event arrived at `now`.
    pub(super) fn first_run(&self, now: i64) -> i64 {
        self.run_at.unwrap_or(now)
    }
}

/// The events of a batch that may take a row: the first copy of each
/// `(source, event_id)`; later copies are duplicates whatever the database holds.
pub fn first_copies(events: &[NewEvent]) -> impl Iterator<Item = &NewEvent> {
    let mut seen = HashSet::with_capacity(events.len());
    events
        .iter()
        .filter(move |event| seen.insert((event.source.as_str(), event.event_id.as_str())))
}

/// The unless marks of a batch's first copies: `(source, key, event id)`, sorted.
pub fn batch_marks(events: &[NewEvent]) -> Vec<(&str, &str, &str)> {
    let mut marks: Vec<(&str, &str, &str)> = first_copies(events)
        .flat_map(|event| {
            event
                .marks
                .iter()
                .map(|key| (event.source.as_str(), key.as_str(), event.event_id.as_str()))
        })
        .collect();
    marks.sort_unstable();
    marks.dedup();
    marks
}

/// The links of a batch's first copies, each pair once, sorted: replicas writing
/// overlapping batches take their locks in one order.
pub fn batch_links(events: &[NewEvent]) -> Vec<(&str, &str, &str)> {
    let mut links: Vec<(&str, &str, &str)> = first_copies(events)
        .flat_map(|event| {
            event
                .links
                .iter()
                .map(move |(a, b)| (event.source.as_str(), a.as_str(), b.as_str()))
        })
        .collect();
    links.sort_unstable();
    links.dedup();
    links
}

/// The contacts of a batch's first copies, one per customer, sorted (see
/// [`batch_contacts`]).
pub fn batch_customers(events: &[NewEvent]) -> Vec<Contact> {
    batch_contacts(first_copies(events).filter_map(|event| event.contact.as_ref()))
}

/// What a batch insert of `events` came to, given the `(source, event_id)` of
/// the rows it inserted: each event's outcome. The first copy of an event in a
/// batch takes its row; later copies are duplicates, like events stored before.
pub fn settle(events: &[NewEvent], mut inserted: HashSet<(String, String)>) -> Vec<IngestOutcome> {
    events
        .iter()
        .map(|event| {
            let key = (event.source.clone(), event.event_id.clone());
            if inserted.remove(&key) {
                IngestOutcome::Stored {
                    jobs: event.jobs.len(),
                }
            } else {
                IngestOutcome::Duplicate
            }
        })
        .collect()
}

#[cfg(test)]
impl NewEvent {
    /// A `charge.refunded` event `id` with one job for each of `rules`.
    pub fn sample(id: &str, rules: &[&str]) -> Self {
        Self {
            source: "stripe".to_owned(),
            event_id: id.to_owned(),
            kind: "charge.refunded".to_owned(),
            created: 1,
            livemode: false,
            object_id: None,
            order_id: None,
            normalized: "{}".to_owned(),
            payload: "{}".to_owned(),
            received_at: 1_000,
            jobs: rules
                .iter()
                .map(|rule| {
                    NewJob::new(
                        rule,
                        0,
                        "hook",
                        &Map::new(),
                        &format!("stripe:{id}:{rule}:0"),
                    )
                })
                .collect(),
            links: Vec::new(),
            marks: Vec::new(),
            contact: None,
        }
    }

    /// A batch that holds, after `evt_old` (rule `a`) is stored, a new event with two
    /// jobs, a later copy of it planned differently, `evt_old` planned anew and a new
    /// event with no job; and what writing it must answer.
    pub fn copies_batch() -> ([Self; 4], [IngestOutcome; 4]) {
        let batch = [
            Self::sample("evt_new", &["x", "y"]),
            Self::sample("evt_new", &["z"]),
            Self::sample("evt_old", &["b"]),
            Self::sample("evt_quiet", &[]),
        ];
        let outcomes = [
            IngestOutcome::Stored { jobs: 2 },
            IngestOutcome::Duplicate,
            IngestOutcome::Duplicate,
            IngestOutcome::Stored { jobs: 0 },
        ];
        (batch, outcomes)
    }
}
