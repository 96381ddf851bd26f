//! What a digest says about its period: the `data.object` of its `herald.digest`
//! event, computed once when the digest runs so a replay sends the same figures.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::report::{decimal, movements, totals, MONEY_TYPES};
use crate::store::{Store, StoreError};

/// The event types counted as failed payments.
pub const FAILED_TYPES: [&str; 2] = ["payment_intent.payment_failed", "invoice.payment_failed"];

/// Failed payments listed one by one; beyond this only counted.
const FAILED_LISTED: usize = 20;

/// The period a summary covers.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// `[start, end)`, ms since the epoch.
    pub start_ms: i64,
    pub end_ms: i64,
    /// The zone its times are shown in.
    pub zone: Tz,
}

/// The summary of `window` for the `digest`, as stored in its event; `scheduled`
/// is false for `herald digest run`.
///
/// # Errors
/// On a database error.
pub async fn summarize(
    store: &Store,
    digest: &super::Digest,
    window: Window,
    scheduled: bool,
) -> Result<Value, StoreError> {
    let name = digest.name.as_str();
    let from = window.start_ms.div_euclid(1000);
    let to = window.end_ms.div_euclid(1000);
    let money_events = store
        .events_created("stripe", &MONEY_TYPES, from, to)
        .await?;
    let rows = movements(&money_events);
    let money: Vec<Value> = totals(&rows)
        .iter()
        .map(|(currency, total)| {
            let mut money = total.as_json(currency);
            money["currency"] = currency.clone().into();
            money
        })
        .collect();
    let kinds = store.count_kinds(from, to).await?;
    let count = |kind: &str| kinds.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n);
    let failed_events = store
        .events_created("stripe", &FAILED_TYPES, from, to)
        .await?;
    let failed: Vec<Value> = failed_events
        .iter()
        .take(FAILED_LISTED)
        .map(|event| {
            let currency = event.currency.clone().unwrap_or_default();
            json!({
                "event_id": event.id, "type": event.kind, "created": event.created,
                "order_id": event.order_id, "customer_email": event.customer.email,
                "currency": currency,
                "amount": event.amount.map(|minor| decimal(minor, &currency)),
            })
        })
        .collect();
    let dead = store.dead_groups().await?;
    let dead_total: i64 = dead.iter().map(|group| group.count).sum();
    let dead_groups: Vec<Value> = dead
        .iter()
        .map(|group| json!({"rule": group.rule, "plugin": group.plugin, "count": group.count}))
        .collect();
    let events: Vec<Value> = kinds
        .iter()
        .map(|(kind, n)| json!({"type": kind, "count": n}))
        .collect();
    let attachments: Vec<Value> = if digest.attach_csv {
        let day = |ms: i64| {
            super::local_text(ms, window.zone)
                .chars()
                .take(10)
                .collect::<String>()
        };
        let (first, last) = (day(window.start_ms), day(window.end_ms - 1));
        let filename = if first == last {
            format!("{name}-{first}.csv")
        } else {
            format!("{name}-{first}-to-{last}.csv")
        };
        vec![json!({
            "filename": filename, "content_type": "text/csv",
            "content": crate::report::csv::text(&rows),
        })]
    } else {
        Vec::new()
    };
    Ok(json!({
        "object": "digest",
        "attachments": attachments,
        "digest": name,
        "scheduled": scheduled,
        "period": period(window),
        "money": money,
        "movements": rows.len(),
        "events": events,
        "event_count": kinds.iter().map(|(_, n)| n).sum::<i64>(),
        "subscriptions": {
            "started": count("customer.subscription.created"),
            "canceled": count("customer.subscription.deleted"),
        },
        "failed_payments": {"count": failed_events.len(), "listed": failed},
        "dead_letters": {"count": dead_total, "groups": dead_groups},
    }))
}

/// The period as templates read it: RFC 3339 in the zone, Unix seconds, and a label
/// (`Monday 7 December 2026` for one whole day).
fn period(window: Window) -> Value {
    let local = |ms: i64| {
        DateTime::<Utc>::from_timestamp_millis(ms).map(|time| time.with_timezone(&window.zone))
    };
    let label = match (local(window.start_ms), local(window.end_ms)) {
        (Some(start), Some(end)) => {
            let one_day = start.time() == chrono::NaiveTime::MIN
                && end.time() == chrono::NaiveTime::MIN
                && start.date_naive().succ_opt() == Some(end.date_naive());
            if one_day {
                start.format("%A %-d %B %Y").to_string()
            } else {
                format!(
                    "{} – {}",
                    start.format("%-d %b %Y %H:%M"),
                    end.format("%-d %b %Y %H:%M")
                )
            }
        }
        _ => String::new(),
    };
    json!({
        "start": super::local_text(window.start_ms, window.zone),
        "end": super::local_text(window.end_ms, window.zone),
        "start_unix": window.start_ms.div_euclid(1000),
        "end_unix": window.end_ms.div_euclid(1000),
        "time_zone": window.zone.name(),
        "label": label,
    })
}
