//! `[sources.stripe] reconcile_every`: [`super::reconcile`] inside `serve`, on one
//! replica at a time (a turn at the `schedules` row [`SCHEDULE`]), resuming from where
//! the last run got to, whichever replica ran it and however long ago.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::reconcile;
use crate::reload::Live;
use crate::store::Store;
use crate::stripe_api::{EventsQuery, StripeApi};

/// The `schedules` row the runs take turns at; its cursor is the `created[gte]`
/// (Unix seconds) the next run lists from.
pub const SCHEDULE: &str = "stripe.reconcile";

/// How far back the very first run looks: Stripe's retries in live mode last
/// three days, so anything older has been given up on and needs `herald reconcile`.
const FIRST_LOOK_BACK_SECS: i64 = 3 * 86_400;

/// How far before the last run's start the next one lists from: an event created
/// just before a run may have its first delivery fail only after it.
const OVERLAP_SECS: i64 = 600;

/// How long a turn is held: longer than a run takes; a replica that dies holding it
/// leaves the work to another after this.
const HOLD: Duration = Duration::from_secs(15 * 60);

/// The longest a replica waits before asking for a turn again.
const MAX_POLL: Duration = Duration::from_secs(60);

/// What the runs need.
pub struct Reconciler {
    pub store: Store,
    pub live: Live,
    pub api: StripeApi,
    pub every: Duration,
    /// Woken when a run stored jobs, so they go out now.
    pub wake: Arc<Notify>,
}

impl Reconciler {
    /// Runs whenever a turn is due, until `stop`.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        let poll = self.every.min(MAX_POLL);
        loop {
            self.turn().await;
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Raises `herald.reconcile_found` for a run that stored events: one per run,
    /// named by the window it listed, so a run repeated after a crash raises it once.
    async fn found(
        &self,
        rules: &crate::rules::Rules,
        since: i64,
        started: i64,
        report: &super::ReconcileReport,
        now_ms: i64,
    ) {
        let object = serde_json::json!({
            "object": "reconcile", "id": format!("{since}-{started}"),
            "since": since, "listed": report.listed, "added": report.added,
            "jobs": report.jobs,
        });
        let id = format!("herald.reconcile_found:{since}:{started}");
        let stored = crate::alerts::store_own_event(
            &self.store,
            rules,
            id,
            "herald.reconcile_found",
            object,
            now_ms,
        )
        .await;
        if let Err(err) = stored {
            warn!(error = %err, "could not raise herald.reconcile_found");
        }
    }

    /// One run when the turn is this replica's; nothing otherwise.
    async fn turn(&self) {
        let now_ms = crate::clock::now_ms();
        let hold_ms = i64::try_from(HOLD.as_millis()).unwrap_or(i64::MAX);
        let turn = match self.store.take_turn(SCHEDULE, now_ms, hold_ms).await {
            Ok(Some(turn)) => turn,
            Ok(None) => return,
            Err(err) => {
                warn!(error = %err, "could not take the reconcile turn; asking again later");
                return;
            }
        };
        let started = now_ms / 1000;
        let since = turn
            .cursor
            .and_then(|cursor| cursor.parse::<i64>().ok())
            .unwrap_or(started - FIRST_LOOK_BACK_SECS);
        let query = EventsQuery { since, all: false };
        let rules = self.live.get().config.reloadable.rules.clone();
        let ran = reconcile(&self.store, &rules, &self.api, &query, false, &mut |_| {}).await;
        // A failed run lists from the same place next time.
        let cursor = match ran {
            Ok(report) => {
                if report.added > 0 {
                    info!(
                        listed = report.listed,
                        added = report.added,
                        jobs = report.jobs,
                        "reconcile found events Stripe could not deliver"
                    );
                    self.found(&rules, since, started, &report, now_ms).await;
                    self.wake.notify_one();
                }
                started - OVERLAP_SECS
            }
            Err(err) => {
                warn!(error = %err, since, "reconcile failed; the next run lists from the same time");
                since
            }
        };
        let every_ms = i64::try_from(self.every.as_millis()).unwrap_or(i64::MAX);
        let next = now_ms.saturating_add(every_ms);
        if let Err(err) = self
            .store
            .end_turn(SCHEDULE, Some(&cursor.to_string()), next)
            .await
        {
            warn!(error = %err, "could not store the reconcile cursor; the turn runs out on its own");
        }
    }
}
