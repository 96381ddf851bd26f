//! Runs the digests on their schedules, one replica at a time: each digest takes
//! turns at its own `schedules` row, whose cursor is the last run it handled.
//!
//! A run is raised as an event whose id names the digest and the period, so a
//! replica whose turn ran out mid-run, or a repeat after a crash, stores nothing
//! twice. Runs missed while herald was down are raised, oldest first, when it
//! comes back; a digest seen for the first time starts from now.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::summary::{summarize, Window};
use super::{Digest, EVENT_TYPE};
use crate::alerts::store_own_event;
use crate::reload::Live;
use crate::rules::Rules;
use crate::store::{Store, StoreError};

/// How often the schedules are looked at: a digest goes out at most this late.
pub const EVERY: Duration = Duration::from_secs(20);

/// How long a turn is held before another replica may take it over.
const HOLD_MS: i64 = 5 * 60 * 1000;

/// Missed runs raised when herald comes back, the latest ones: a digest edited back
/// in after months, or an hourly one after a long outage, must not flood anyone.
const CATCH_UP: usize = 24;

/// What the digest runs need.
pub struct DigestWatch {
    pub store: Store,
    pub live: Live,
    /// Rung when a digest was stored with jobs.
    pub wake: Arc<Notify>,
}

impl DigestWatch {
    /// Looks every [`EVERY`], until `stop`.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        loop {
            let rules = self.live.get().rules().clone();
            // Each failure is logged with its digest by `tick`.
            if let Ok(raised) = tick(&self.store, &rules, crate::clock::now_ms()).await {
                if raised > 0 {
                    self.wake.notify_one();
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(EVERY) => {}
            }
        }
    }
}

/// Raises every digest run due at `now_ms` that has not been raised; how many.
///
/// # Errors
/// On a database error; what was raised until then stays, and the rest is
/// raised by a later call.
pub async fn tick(store: &Store, rules: &Rules, now_ms: i64) -> Result<usize, StoreError> {
    let mut raised = 0;
    let mut first_error = None;
    // One digest failing does not hold the others back.
    for digest in rules.digests() {
        match tick_one(store, rules, digest, now_ms).await {
            Ok(count) => raised += count,
            Err(err) => {
                warn!(digest = %digest.name, error = %err, "could not run a digest; trying again shortly");
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) if raised == 0 => Err(err),
        _ => Ok(raised),
    }
}

async fn tick_one(
    store: &Store,
    rules: &Rules,
    digest: &Digest,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let turn_name = digest.turn_name();
    // A read first: most looks find nothing due, and need no write.
    if let Some(row) = store.schedule(&turn_name).await? {
        let cursor = row.cursor.as_deref().and_then(|c| c.parse::<i64>().ok());
        if let Some(cursor) = cursor {
            if digest
                .schedule
                .next_after(cursor)
                .is_none_or(|next| next > now_ms)
            {
                return Ok(0);
            }
        }
    }
    let Some(turn) = store.take_turn(&turn_name, now_ms, HOLD_MS).await? else {
        return Ok(0);
    };
    let Some(cursor) = turn.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) else {
        info!(digest = %digest.name, "new digest: its first run is its next scheduled time");
        let cursor = now_ms.to_string();
        store.end_turn(&turn_name, Some(&cursor), now_ms).await?;
        return Ok(0);
    };
    let runs = missed(digest, cursor, now_ms);
    let mut reached = cursor;
    let mut failed = None;
    for run in &runs {
        if let Err(err) = raise_run(store, rules, digest, *run, now_ms).await {
            failed = Some(err);
            break;
        }
        reached = *run;
    }
    // Always due: whether a run is due is read from the cursor and the schedule in
    // force, so a schedule edited to run earlier is not held back by an old time.
    // Ended after a failure too, so the next look tries again without waiting out
    // the hold.
    store
        .end_turn(&turn_name, Some(&reached.to_string()), reached)
        .await?;
    match failed {
        Some(err) => Err(err),
        None => Ok(runs.len()),
    }
}

/// The runs in `(cursor, now_ms]`, oldest first: the latest [`CATCH_UP`] of them.
fn missed(digest: &Digest, cursor: i64, now_ms: i64) -> Vec<i64> {
    let mut runs = Vec::new();
    let mut at = now_ms;
    while runs.len() < CATCH_UP {
        match digest.schedule.last_at_or_before(at) {
            Some(run) if run > cursor => {
                runs.push(run);
                at = run - 1000;
            }
            _ => break,
        }
    }
    runs.reverse();
    if let (Some(first), Some(oldest)) = (runs.first(), digest.schedule.next_after(cursor)) {
        if oldest < *first {
            warn!(
                digest = %digest.name,
                raised = runs.len(),
                "more digest runs were missed than are caught up; the older ones are skipped (herald digest run sends any period)"
            );
        }
    }
    runs
}

/// Raises the scheduled run at `run_ms`: the period it covers, summarized now.
async fn raise_run(
    store: &Store,
    rules: &Rules,
    digest: &Digest,
    run_ms: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let Some((start_ms, end_ms)) = digest.schedule.window(run_ms) else {
        warn!(digest = %digest.name, run_ms, "a digest run has no period; skipped");
        return Ok(());
    };
    let window = Window {
        start_ms,
        end_ms,
        zone: digest.schedule.zone(),
    };
    let mut object = summarize(store, digest, window, true).await?;
    let id = digest.event_id(start_ms);
    object["id"] = id.clone().into();
    info!(digest = %digest.name, period = %object["period"]["label"], "digest raised");
    store_own_event(store, rules, id, EVENT_TYPE, object, now_ms).await
}
