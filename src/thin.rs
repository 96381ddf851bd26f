//! Completing thin events: for each one the receiver kept, fetch the object it names
//! from Stripe's API, then store and route the event as if it had come whole. One
//! replica at a time (a turn at the `schedules` row [`SCHEDULE`]); a fetch that fails
//! is tried again later, backing off, until Stripe answers: a thin event is never
//! dropped. An object Stripe no longer has (404) is routed with only its id and type.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::reload::Live;
use crate::source::stripe::{self, normalize, ThinEvent, Verified};
use crate::store::{Planned, Store, WaitingThin};
use crate::stripe_api::{ApiError, StripeApi, STRIPE_VERSION};

/// The `schedules` row whose turn lets a replica fetch.
pub const SCHEDULE: &str = "stripe.thin";

/// How long a turn is held; a replica that dies holding it leaves the work to
/// another after this.
const HOLD_MS: i64 = 5 * 60 * 1000;

/// How often a replica looks for work it was not woken for (another replica's
/// thin events, retries coming due).
const POLL: Duration = Duration::from_secs(5);

/// Thin events fetched per look.
const BATCH: i64 = 50;

/// The first wait after a failed fetch, doubled each time, at most [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 10_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// What completing thin events needs.
pub struct ThinFetcher {
    pub store: Store,
    pub live: Live,
    pub api: StripeApi,
    /// Rung by the receiver when it kept a thin event.
    pub wake: Arc<Notify>,
    /// Rung when an event was stored with jobs.
    pub wake_dispatcher: Arc<Notify>,
}

impl ThinFetcher {
    /// Fetches whenever there is work, until `stop`.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        loop {
            self.round().await;
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Completes every thin event due, when the turn is this replica's.
    pub async fn round(&self) {
        let now = crate::clock::now_ms();
        // A read first: most rounds find nothing, and need no write to say so.
        match self.store.due_thin(stripe::NAME, now, 1).await {
            Ok(due) if due.is_empty() => return,
            Ok(_) => {}
            Err(err) => {
                warn!(error = %err, "could not read the thin events waiting");
                return;
            }
        }
        match self.store.take_turn(SCHEDULE, now, HOLD_MS).await {
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(err) => {
                warn!(error = %err, "could not take the thin-event turn; trying again later");
                return;
            }
        }
        loop {
            let due = match self
                .store
                .due_thin(stripe::NAME, crate::clock::now_ms(), BATCH)
                .await
            {
                Ok(due) => due,
                Err(err) => {
                    warn!(error = %err, "could not read the thin events waiting");
                    break;
                }
            };
            if due.is_empty() {
                break;
            }
            for waiting in &due {
                self.complete(waiting).await;
            }
        }
        if let Err(err) = self.store.end_turn(SCHEDULE, None, 0).await {
            warn!(error = %err, "could not end the thin-event turn; it runs out on its own");
        }
    }

    /// Fetches `waiting`'s object and stores the event whole; on failure, puts it
    /// back for later.
    async fn complete(&self, waiting: &WaitingThin) {
        let id = waiting.event_id.as_str();
        let thin = match serde_json::from_str::<Value>(&waiting.body)
            .map_err(|err| err.to_string())
            .and_then(|body| ThinEvent::read(&body).map_err(|err| err.to_string()))
        {
            Ok(thin) => thin,
            Err(err) => {
                // Read once on receipt already; only a changed herald gets here.
                warn!(event_id = id, error = %err, "a kept thin event no longer reads; dropped");
                self.done(id).await;
                return;
            }
        };
        let object = match self.api.get(&thin.path, &[]).await {
            Ok(object) => Some(object),
            Err(ApiError::Refused { status: 404, .. }) => {
                warn!(event_id = id, object = %thin.object_id, "Stripe no longer has the thin event's object; routed with its id only");
                None
            }
            Err(err) => {
                let wait = FIRST_BACKOFF_MS
                    .saturating_mul(1 << waiting.attempts.clamp(0, 20))
                    .min(MAX_BACKOFF_MS);
                warn!(event_id = id, error = %err, attempts = waiting.attempts + 1, "could not fetch a thin event's object; trying again later");
                let due = crate::clock::now_ms().saturating_add(wait);
                let failed = self
                    .store
                    .thin_failed(stripe::NAME, id, &err.to_string(), due)
                    .await;
                if let Err(err) = failed {
                    warn!(event_id = id, error = %err, "could not record the failed fetch");
                }
                return;
            }
        };
        let body = thin.fattened(object, STRIPE_VERSION).to_string();
        let event = match normalize(Verified::local(body.as_bytes())) {
            Ok(event) => event,
            Err(err) => {
                warn!(event_id = id, error = %err, "a completed thin event does not read as an event; dropped");
                self.done(id).await;
                return;
            }
        };
        let planned = Planned::of(self.live.get().rules(), &event);
        match self
            .store
            .ingest_planned(&event, planned, waiting.received_at)
            .await
        {
            Ok(outcome) => {
                info!(event_id = id, kind = %event.kind, ?outcome, "thin event completed and stored");
                self.wake_dispatcher.notify_one();
                self.done(id).await;
            }
            Err(err) => {
                warn!(event_id = id, error = %err, "could not store a completed thin event; trying again");
            }
        }
    }

    async fn done(&self, id: &str) {
        if let Err(err) = self.store.thin_done(stripe::NAME, id).await {
            warn!(event_id = id, error = %err, "could not clear a completed thin event; it is fetched again");
        }
    }
}
