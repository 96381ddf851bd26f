//! `herald.stock_low`: raised when a move takes a SKU's level to `low_stock_at` or
//! below (from above it), or below zero (from zero or above).
//!
//! The event's id is the job's idempotency key and the SKU, so the same move, however
//! often its job is delivered, raises one event; a later sale that takes the level
//! lower still does not raise another until a restock lifts it back above.

use herald_plugin_api::{Job, RaisedEvent};
use serde_json::json;

use crate::ledger::Moved;

/// The type of the event a low level raises.
pub const STOCK_LOW: &str = "herald.stock_low";

/// Raises `herald.stock_low` on `job` for each of `moved` that crossed into low.
pub(crate) fn raise(job: &Job<'_>, moved: &[Moved], low_stock_at: Option<i64>) {
    for line in moved {
        if let Some(why) = crossing(line, low_stock_at) {
            job.raised.raise(RaisedEvent {
                id: format!("{STOCK_LOW}:{}:{}", job.idempotency_key, line.sku),
                kind: STOCK_LOW.to_owned(),
                object: json!({
                    "object": "stock_level",
                    "sku": line.sku,
                    "level": line.level,
                    "previous_level": line.level.saturating_sub(line.delta),
                    "low_stock_at": low_stock_at,
                    "below_zero": line.level < 0,
                    "reason": why,
                    "order_id": job.event.order_id,
                    "cause": { "event_id": job.event.id, "type": job.event.kind },
                }),
            });
        }
    }
}

/// Why `line` raises an event, if it does: it went below zero, or reached the
/// threshold from above.
fn crossing(line: &Moved, low_stock_at: Option<i64>) -> Option<&'static str> {
    let before = line.level.saturating_sub(line.delta);
    if before >= 0 && line.level < 0 {
        return Some("below_zero");
    }
    match low_stock_at {
        Some(threshold) if before > threshold && line.level <= threshold => Some("low_stock_at"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(before: i64, after: i64) -> Moved {
        Moved {
            sku: "A".into(),
            delta: after - before,
            level: after,
        }
    }

    #[test]
    fn only_a_crossing_raises() {
        let cases = [
            (moved(5, 3), Some(3), Some("low_stock_at")),
            (moved(5, 4), Some(3), None),
            (moved(3, 2), Some(3), None),
            (moved(2, 5), Some(3), None),
            (moved(1, -1), Some(3), Some("below_zero")),
            (moved(1, -1), None, Some("below_zero")),
            (moved(-1, -2), None, None),
            (moved(5, 0), None, None),
            (moved(10, 0), Some(3), Some("low_stock_at")),
        ];
        for (line, threshold, expected) in cases {
            assert_eq!(
                crossing(&line, threshold),
                expected,
                "{line:?} {threshold:?}"
            );
        }
    }
}
