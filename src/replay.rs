//! Operator actions on what the dispatcher gave up on: replay dead letters, purge
//! them, re-deliver a stored event. Shared by the CLI and the admin API so both do
//! exactly the same thing.

use serde::Serialize;

use crate::clock::now_ms;
use crate::rules::Rules;
use crate::store::{JobFilter, JobSummary, NewJob, Redelivered, Store, StoreError};

/// How many jobs one requeue statement handles; progress is reported per batch.
const BATCH: usize = 500;

/// What a replay did (or, dry, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    /// Dead letters matching the filter.
    pub matched: usize,
    /// Queued again (0 on a dry run; fewer than matched if some were replayed meanwhile).
    pub replayed: u64,
    pub dry_run: bool,
    /// The matching dead letters.
    pub jobs: Vec<JobSummary>,
}

/// Queues the dead letters matching `filter` again, each with a fresh retry budget.
/// `progress(done, total)` is called after every batch.
///
/// # Errors
/// On a database error; batches already committed stay replayed.
pub async fn replay_dead_letters(
    store: &Store,
    filter: &JobFilter,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ReplayReport, StoreError> {
    let jobs = store.dead_letters(filter, usize::MAX).await?;
    let mut replayed = 0;
    if !dry_run {
        let ids: Vec<i64> = jobs.iter().map(|job| job.id).collect();
        let mut done = 0;
        for batch in ids.chunks(BATCH) {
            replayed += store.requeue(batch, now_ms()).await?;
            done += batch.len();
            progress(done, ids.len());
        }
    }
    Ok(ReplayReport {
        matched: jobs.len(),
        replayed,
        dry_run,
        jobs,
    })
}

/// Deletes the dead letters matching `filter`, with their attempt history.
///
/// # Errors
/// On a database error.
pub async fn purge_dead_letters(store: &Store, filter: &JobFilter) -> Result<u64, StoreError> {
    let jobs = store.dead_letters(filter, usize::MAX).await?;
    let ids: Vec<i64> = jobs.iter().map(|job| job.id).collect();
    store.purge_dead(&ids).await
}

/// Delivers a stored event again with the current rules (after a template fix, say):
/// its jobs are queued again, and the rules that match it now and did not then
/// get theirs. `None` when the event is not stored (or is pruned meanwhile).
///
/// # Errors
/// On a database error.
pub async fn redeliver_event(
    store: &Store,
    rules: &Rules,
    source: &str,
    event_id: &str,
) -> Result<Option<Redelivered>, StoreError> {
    let Some(event) = store.event(source, event_id).await? else {
        return Ok(None);
    };
    let planned: Vec<NewJob> = rules.plan(&event).iter().map(NewJob::from).collect();
    store
        .redeliver_event(source, event_id, &planned, now_ms())
        .await
}
