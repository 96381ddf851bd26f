//! Applying one rule to events already stored: the jobs it would have planned,
//! had it existed when they arrived, and no one else's.
//!
//! `herald redeliver` queues every job an event has again; a rule added later
//! needs only its own. Jobs go in under the idempotency keys ingest would have
//! given them, so a second backfill, or one over events that already have the
//! rule's jobs, adds nothing.

use serde::Serialize;

use crate::clock::now_ms;
use crate::rules::{Rule, Rules};
use crate::store::{EventJobs, EventPage, NewJob, Store, StoreError};

/// Events read, payloads included, per page.
const PAGE: usize = 200;

/// Which stored events a backfill walks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Received at or after this Unix millisecond.
    pub since_ms: Option<i64>,
    /// Received before this Unix millisecond.
    pub until_ms: Option<i64>,
}

/// One job a backfill queued, or would queue on a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackfillJob {
    pub event_id: String,
    pub event_type: String,
    /// When herald received the event (Unix ms).
    pub received_at_ms: i64,
    pub rule: String,
    pub plugin: String,
    pub idempotency_key: String,
}

/// What a backfill did, or on a dry run would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackfillReport {
    pub rule: String,
    pub dry_run: bool,
    /// Stored events in the window.
    pub scanned: usize,
    /// Of those, the events the rule matches.
    pub matched: usize,
    /// Matched events that got (or would get) at least one job.
    pub events: usize,
    /// Matched events that had every job of the rule already.
    pub already: usize,
    /// The jobs queued (or that would be).
    pub jobs: Vec<BackfillJob>,
}

/// The rule named `name`, or an error that lists the rules there are.
///
/// # Errors
/// When `rules` has no rule of that name.
pub fn find_rule<'r>(rules: &'r Rules, name: &str) -> Result<&'r Rule, String> {
    rules
        .iter()
        .find(|rule| rule.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = rules.iter().map(Rule::name).collect();
            if names.is_empty() {
                format!("no rule named `{name}`: the config has no rules")
            } else {
                format!(
                    "no rule named `{name}`; the config's rules are: {}",
                    names.join(", ")
                )
            }
        })
}

/// Plans `rule` for every stored event in `window` and queues the jobs they do
/// not have yet, a page at a time; on a dry run, only says which. `progress(events
/// scanned)` is called after every page.
///
/// # Errors
/// On a database error; pages already committed keep their jobs.
pub async fn backfill(
    store: &Store,
    rule: &Rule,
    window: Window,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<BackfillReport, StoreError> {
    let only = Rules::new(vec![rule.clone()]);
    let mut report = BackfillReport {
        rule: rule.name().to_owned(),
        dry_run,
        ..BackfillReport::default()
    };
    let mut page = EventPage {
        after_pk: 0,
        since_ms: window.since_ms,
        until_ms: window.until_ms,
        limit: PAGE,
    };
    loop {
        let events = store.events_page(&page).await?;
        let Some(last) = events.last() else {
            return Ok(report);
        };
        page.after_pk = last.pk;
        report.scanned += events.len();
        let mut batch = Vec::new();
        let mut listed = Vec::new();
        for stored in &events {
            let planned = only.plan(&stored.event);
            if planned.is_empty() {
                continue;
            }
            report.matched += 1;
            let rows: Vec<BackfillJob> = planned
                .iter()
                .map(|job| BackfillJob {
                    event_id: stored.event.id.clone(),
                    event_type: stored.event.kind.clone(),
                    received_at_ms: stored.received_at_ms,
                    rule: job.rule.clone(),
                    plugin: job.plugin.clone(),
                    idempotency_key: job.idempotency_key.clone(),
                })
                .collect();
            listed.push(rows);
            batch.push(EventJobs {
                event_pk: stored.pk,
                jobs: planned.iter().map(NewJob::from).collect(),
            });
        }
        if !batch.is_empty() {
            if dry_run {
                let keys: Vec<String> = batch
                    .iter()
                    .flat_map(|event| event.jobs.iter())
                    .map(|job| job.idempotency_key().to_owned())
                    .collect();
                let existing = store.existing_keys(&keys).await?;
                for rows in listed {
                    let new: Vec<BackfillJob> = rows
                        .into_iter()
                        .filter(|job| !existing.contains(&job.idempotency_key))
                        .collect();
                    report.tally(new);
                }
            } else {
                // A job another process added meanwhile is skipped by the store;
                // what it reports added is what this run queued.
                let existing = store
                    .existing_keys(
                        &listed
                            .iter()
                            .flatten()
                            .map(|job| job.idempotency_key.clone())
                            .collect::<Vec<_>>(),
                    )
                    .await?;
                let added = store.add_jobs(&batch, now_ms()).await?;
                for (rows, added) in listed.into_iter().zip(added) {
                    let new: Vec<BackfillJob> = if added == 0 {
                        Vec::new()
                    } else {
                        rows.into_iter()
                            .filter(|job| !existing.contains(&job.idempotency_key))
                            .collect()
                    };
                    report.tally(new);
                }
            }
        }
        progress(report.scanned);
    }
}

impl BackfillReport {
    /// Counts one matched event, whose new jobs are `new`.
    fn tally(&mut self, new: Vec<BackfillJob>) {
        if new.is_empty() {
            self.already += 1;
        } else {
            self.events += 1;
            self.jobs.extend(new);
        }
    }
}
