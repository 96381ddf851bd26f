//! Moving a sample's timestamps together, so it reads as if it happened now.

use serde_json::Value;

/// Names of Unix-time fields that do not end in `_at`.
const TIME_FIELDS: &[&str] = &[
    "created",
    "available_on",
    "billing_cycle_anchor",
    "current_period_end",
    "current_period_start",
    "due_by",
    "due_date",
    "end",
    "next_payment_attempt",
    "period_end",
    "period_start",
    "start",
    "start_date",
    "trial_end",
    "trial_start",
];

/// Unix seconds between 2000 and 2100: what a Stripe timestamp looks like. A field
/// named like a time but holding something else (an amount, a count) is left alone.
const PLAUSIBLE: std::ops::RangeInclusive<i64> = 946_684_800..=4_102_444_800;

/// Adds `delta` seconds to every timestamp in `value`, at any depth.
pub(super) fn shift(value: &mut Value, delta: i64) {
    match value {
        Value::Object(map) => {
            for (name, child) in map.iter_mut() {
                let is_time = name.ends_with("_at") || TIME_FIELDS.contains(&name.as_str());
                match child.as_i64() {
                    Some(t) if is_time && PLAUSIBLE.contains(&t) => {
                        *child = Value::from(t.saturating_add(delta));
                    }
                    _ => shift(child, delta),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| shift(item, delta)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn moves_times_at_any_depth_and_nothing_else() {
        let mut value = json!({
            "created": 1_789_927_200,
            "amount": 1_789_927_200,
            "canceled_at": null,
            "expires_at": 1_790_013_595,
            "lines": [{"period": {"start": 1_789_927_200, "end": 1_792_519_200}}],
            "attempt_count": 1,
            "end": 3,
        });
        shift(&mut value, 10);
        assert_eq!(
            value,
            json!({
                "created": 1_789_927_210,
                "amount": 1_789_927_200,
                "canceled_at": null,
                "expires_at": 1_790_013_605,
                "lines": [{"period": {"start": 1_789_927_210, "end": 1_792_519_210}}],
                "attempt_count": 1,
                "end": 3,
            })
        );
    }
}
