//! The alerts about what each replica sees alone: bursts of webhooks refused for their
//! signature (a probe, or a rotated secret not updated here) and breakers held open.
//! Every replica writes what it saw to `alert_signals` each turn ([`report`]); the
//! replica holding the alerts turn adds them up ([`scan_signals`]), so a burst spread
//! over replicas behind a load balancer is one alert, and a breaker open on two is one.

use serde_json::json;

use super::raise;
use crate::metrics::Signals;
use crate::rules::Rules;
use crate::store::{OpenAlert, Store, StoreError};

/// Refusals for a signature within [`BURST_MINUTES`] that make a burst.
pub const SIGNATURE_BURST: i64 = 10;

/// The window a burst is counted in; a burst clears after this long without one.
pub const BURST_MINUTES: i64 = 5;

/// A breaker no replica has reported open for this long counts as closed (a replica
/// that died with it open reports nothing more).
const BREAKER_MINUTES: i64 = 2;

/// How long what replicas saw is kept.
const KEEP_MINUTES: i64 = 60;

const SIGNATURES: &str = "signature_failures:";
const BREAKER: &str = "breaker:";

/// Writes what this process saw since its last report.
///
/// # Errors
/// On a database error; the failures not written are kept for the next report.
pub async fn report(store: &Store, signals: &Signals, now_ms: i64) -> Result<(), StoreError> {
    let minute = now_ms.div_euclid(60_000);
    let failures = signals.take_signature_failures();
    for (i, (source, count)) in failures.iter().enumerate() {
        let count = i64::try_from(*count).unwrap_or(i64::MAX);
        let key = ("signature_failures", source.as_str());
        if let Err(err) = store.add_signal(key, minute, count, false).await {
            signals.restore_signature_failures(&failures[i..]);
            return Err(err);
        }
    }
    for plugin in signals.open_breakers() {
        store
            .add_signal(("breaker_open", &plugin), minute, 1, true)
            .await?;
    }
    Ok(())
}

/// Raises what opened and cleared since the last scan; how many alerts it raised.
///
/// # Errors
/// On a database error; what was raised until then stays.
pub async fn scan_signals(store: &Store, rules: &Rules, now_ms: i64) -> Result<usize, StoreError> {
    let minute = now_ms.div_euclid(60_000);
    let raised = signatures(store, rules, now_ms, minute).await?
        + breakers(store, rules, now_ms, minute).await?;
    store.prune_signals(minute - KEEP_MINUTES).await?;
    Ok(raised)
}

async fn signatures(
    store: &Store,
    rules: &Rules,
    now_ms: i64,
    minute: i64,
) -> Result<usize, StoreError> {
    let recent = store
        .signal_sums("signature_failures", minute - (BURST_MINUTES - 1))
        .await?;
    let open = store.open_alerts(SIGNATURES).await?;
    let mut raised = 0;
    for (source, count) in &recent {
        let key = format!("{SIGNATURES}{source}");
        match open.iter().find(|alert| alert.key == key) {
            None if *count >= SIGNATURE_BURST => {
                let alert = OpenAlert {
                    key,
                    opened_at: now_ms,
                    count: *count,
                };
                let object = json!({
                    "object": "alert", "id": alert.key, "state": "open", "source": source,
                    "count": count, "window_minutes": BURST_MINUTES,
                    "opened_at": now_ms.div_euclid(1000),
                });
                raise(
                    store,
                    rules,
                    "herald.signature_failures",
                    &alert,
                    object,
                    (now_ms, true),
                )
                .await?;
                raised += 1;
            }
            // Still going: the count since the window it opened on follows, without
            // another alert.
            Some(alert) => {
                let since = alert.opened_at.div_euclid(60_000) - (BURST_MINUTES - 1);
                let total = store
                    .signal_sums("signature_failures", since)
                    .await?
                    .into_iter()
                    .find(|(subject, _)| subject == source)
                    .map_or(alert.count, |(_, total)| total);
                if total != alert.count {
                    let alert = OpenAlert {
                        count: total,
                        ..alert.clone()
                    };
                    store.set_alert(&alert, now_ms, true).await?;
                }
            }
            None => {}
        }
    }
    for alert in &open {
        let source = &alert.key[SIGNATURES.len()..];
        if recent.iter().any(|(subject, _)| subject == source) {
            continue;
        }
        let object = json!({
            "object": "alert", "id": alert.key, "state": "cleared", "source": source,
            "count": alert.count, "window_minutes": BURST_MINUTES,
            "opened_at": alert.opened_at.div_euclid(1000),
            "cleared_at": now_ms.div_euclid(1000),
        });
        raise(
            store,
            rules,
            "herald.signature_failures_cleared",
            alert,
            object,
            (now_ms, false),
        )
        .await?;
        raised += 1;
    }
    Ok(raised)
}

async fn breakers(
    store: &Store,
    rules: &Rules,
    now_ms: i64,
    minute: i64,
) -> Result<usize, StoreError> {
    let open_now = store
        .signal_sums("breaker_open", minute - BREAKER_MINUTES)
        .await?;
    let open = store.open_alerts(BREAKER).await?;
    let mut raised = 0;
    for (plugin, _) in &open_now {
        let key = format!("{BREAKER}{plugin}");
        if open.iter().any(|alert| alert.key == key) {
            continue;
        }
        let alert = OpenAlert {
            key,
            opened_at: now_ms,
            count: 1,
        };
        let object = json!({
            "object": "alert", "id": alert.key, "state": "open", "plugin": plugin,
            "opened_at": now_ms.div_euclid(1000),
        });
        raise(
            store,
            rules,
            "herald.breaker_opened",
            &alert,
            object,
            (now_ms, true),
        )
        .await?;
        raised += 1;
    }
    for alert in &open {
        let plugin = &alert.key[BREAKER.len()..];
        if open_now.iter().any(|(subject, _)| subject == plugin) {
            continue;
        }
        let object = json!({
            "object": "alert", "id": alert.key, "state": "cleared", "plugin": plugin,
            "opened_at": alert.opened_at.div_euclid(1000),
            "cleared_at": now_ms.div_euclid(1000),
        });
        raise(
            store,
            rules,
            "herald.breaker_closed",
            alert,
            object,
            (now_ms, false),
        )
        .await?;
        raised += 1;
    }
    Ok(raised)
}
