//! herald's own alerts, routed by its own rules (`on = ["herald.*"]`): grouped, one
//! per open problem, never one per job. Every [`EVERY`] one replica (a turn at the
//! `schedules` row [`SCHEDULE`]) compares the dead letters, grouped by rule and
//! plugin, with the problems open in the `alerts` table: a group that appears raises
//! `herald.dead_letter` with its count; one that empties (replayed or purged) raises
//! `herald.dead_letter_cleared`. A dead letter of an alert ([`ALERT_TYPES`]) counts
//! for nothing, so an alert's own failure raises no alert. Signature-failure bursts and breakers
//! are in [`signals`].

use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::RaisedEvent;
use serde_json::json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub mod signals;

use crate::dispatch::own_event;
use crate::metrics::Metrics;
use crate::reload::Live;
use crate::rules::Rules;
use crate::store::{OpenAlert, Planned, Store, StoreError};

/// The `schedules` row the scans take turns at.
pub const SCHEDULE: &str = "herald.alerts";

/// How often the dead letters are looked at.
pub const EVERY: Duration = Duration::from_secs(30);

/// The types of herald's alerts. Their own dead letters raise nothing, so a broken
/// mail instance cannot alert about itself in a loop.
pub const ALERT_TYPES: [&str; 6] = [
    "herald.dead_letter",
    "herald.dead_letter_cleared",
    "herald.signature_failures",
    "herald.signature_failures_cleared",
    "herald.breaker_opened",
    "herald.breaker_closed",
];

/// What a problem's alert key starts with.
const DEAD_LETTER: &str = "dead_letter:";

/// What the scans need.
pub struct AlertWatch {
    pub store: Store,
    pub live: Live,
    /// Where this process's signature failures and open breakers are counted.
    pub metrics: Arc<Metrics>,
    /// Rung when an alert was stored with jobs.
    pub wake: Arc<Notify>,
}

impl AlertWatch {
    /// Scans every [`EVERY`], until `stop`.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        let every_ms = i64::try_from(EVERY.as_millis()).unwrap_or(i64::MAX);
        loop {
            let now = crate::clock::now_ms();
            if let Err(err) = signals::report(&self.store, &self.metrics.signals, now).await {
                warn!(error = %err, "could not write what this replica saw for the alerts");
            }
            if let Ok(Some(_)) = self.store.take_turn(SCHEDULE, now, every_ms * 4).await {
                let rules = self.live.get().rules().clone();
                let scanned = match scan(&self.store, &rules, now).await {
                    Ok(raised) => signals::scan_signals(&self.store, &rules, now)
                        .await
                        .map(|more| raised + more),
                    Err(err) => Err(err),
                };
                match scanned {
                    Ok(raised) if raised > 0 => self.wake.notify_one(),
                    Ok(_) => {}
                    Err(err) => {
                        warn!(error = %err, "could not look for alerts");
                    }
                }
                if let Err(err) = self.store.end_turn(SCHEDULE, None, now + every_ms).await {
                    warn!(error = %err, "could not end the alerts turn; it runs out on its own");
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(EVERY) => {}
            }
        }
    }
}

/// Compares the dead letters with the open problems at `now_ms` and raises what
/// changed; how many alerts it raised.
///
/// # Errors
/// On a database error; what was raised until then stays.
pub async fn scan(store: &Store, rules: &Rules, now_ms: i64) -> Result<usize, StoreError> {
    let groups = store.dead_groups().await?;
    let open = store.open_alerts(DEAD_LETTER).await?;
    let mut raised = 0;
    for group in &groups {
        let key = format!("{DEAD_LETTER}{}:{}", group.rule, group.plugin);
        match open.iter().find(|alert| alert.key == key) {
            None => {
                let alert = OpenAlert {
                    key,
                    opened_at: now_ms,
                    count: group.count,
                };
                let object = json!({
                    "object": "alert", "id": alert.key, "state": "open",
                    "rule": group.rule, "plugin": group.plugin, "count": group.count,
                    "last_error": group.last_error, "event_id": group.event_id,
                    "opened_at": now_ms.div_euclid(1000),
                });
                raise(
                    store,
                    rules,
                    "herald.dead_letter",
                    &alert,
                    object,
                    (now_ms, true),
                )
                .await?;
                raised += 1;
            }
            // Still open: its count follows, without another alert.
            Some(alert) if alert.count != group.count => {
                let alert = OpenAlert {
                    count: group.count,
                    ..alert.clone()
                };
                store.set_alert(&alert, now_ms, true).await?;
            }
            Some(_) => {}
        }
    }
    for alert in &open {
        let still = groups
            .iter()
            .any(|group| alert.key == format!("{DEAD_LETTER}{}:{}", group.rule, group.plugin));
        if still {
            continue;
        }
        let (rule, plugin) = alert.key[DEAD_LETTER.len()..]
            .rsplit_once(':')
            .unwrap_or((&alert.key, ""));
        let object = json!({
            "object": "alert", "id": alert.key, "state": "cleared",
            "rule": rule, "plugin": plugin, "count": alert.count,
            "opened_at": alert.opened_at.div_euclid(1000),
            "cleared_at": now_ms.div_euclid(1000),
        });
        raise(
            store,
            rules,
            "herald.dead_letter_cleared",
            alert,
            object,
            (now_ms, false),
        )
        .await?;
        raised += 1;
    }
    Ok(raised)
}

/// Stores and routes one alert, then opens its problem (`open`) or closes it. Its
/// id names the problem and when it opened, so a scan repeated after a crash raises
/// it once.
async fn raise(
    store: &Store,
    rules: &Rules,
    kind: &str,
    alert: &OpenAlert,
    object: serde_json::Value,
    (now_ms, open): (i64, bool),
) -> Result<(), StoreError> {
    let id = format!("{kind}:{}:{}", alert.key, alert.opened_at);
    store_own_event(store, rules, id, kind, object, now_ms).await?;
    store.set_alert(alert, now_ms, open).await
}

/// Stores one of herald's own events, `id` of type `kind` holding `object`, with
/// the jobs `rules` plan for it.
///
/// # Errors
/// When it cannot be stored.
pub async fn store_own_event(
    store: &Store,
    rules: &Rules,
    id: String,
    kind: &str,
    object: serde_json::Value,
    now_ms: i64,
) -> Result<(), StoreError> {
    let raised = RaisedEvent {
        id,
        kind: kind.to_owned(),
        object,
    };
    let event = own_event(raised, false, now_ms);
    let planned = Planned::of(rules, &event);
    info!(event_id = %event.id, jobs = planned.jobs.len(), "herald raised an event of its own");
    store.ingest_planned(&event, planned, now_ms).await?;
    Ok(())
}
