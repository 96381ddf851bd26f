//! Retry settings an operator can set per plugin instance and per rule.

use serde::Deserialize;

/// `retry = { … }` on a plugin instance or a rule; unset fields fall back to the
/// next level (rule → plugin instance → `[dispatch]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts in all before a temporarily failing job becomes a dead letter.
    pub max_attempts: Option<u32>,
    /// How long after it was queued a job may still be retried (Stripe itself retries for 3 days).
    pub max_age_secs: Option<u64>,
    /// The first retry's delay ceiling, in seconds (fractions allowed); doubles per attempt.
    pub backoff_base_secs: Option<f64>,
    /// The largest delay ceiling, in seconds.
    pub backoff_max_secs: Option<f64>,
}

impl RetryConfig {
    /// `self`, with unset fields taken from `fallback`.
    pub fn or(self, fallback: RetryConfig) -> RetryConfig {
        RetryConfig {
            max_attempts: self.max_attempts.or(fallback.max_attempts),
            max_age_secs: self.max_age_secs.or(fallback.max_age_secs),
            backoff_base_secs: self.backoff_base_secs.or(fallback.backoff_base_secs),
            backoff_max_secs: self.backoff_max_secs.or(fallback.backoff_max_secs),
        }
    }
}

/// The longest backoff ceiling accepted: a week, far past any sensible policy, and
/// small enough that durations never overflow.
pub const MAX_BACKOFF_SECS: f64 = 7.0 * 24.0 * 3600.0;

impl RetryConfig {
    /// The problems with the fields that are set, as `(field, message)` pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.max_attempts == Some(0) {
            problems.push(("max_attempts", "must be at least 1".to_owned()));
        }
        for (name, value) in [
            ("backoff_base_secs", self.backoff_base_secs),
            ("backoff_max_secs", self.backoff_max_secs),
        ] {
            if value.is_some_and(|v| !v.is_finite() || !(0.0..=MAX_BACKOFF_SECS).contains(&v)) {
                problems.push((
                    name,
                    format!("must be between 0 and {MAX_BACKOFF_SECS} seconds"),
                ));
            }
        }
        if let (Some(base), Some(max)) = (self.backoff_base_secs, self.backoff_max_secs) {
            if base > max {
                problems.push((
                    "backoff_base_secs",
                    "must not exceed backoff_max_secs".to_owned(),
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_fields_are_checked() {
        assert!(RetryConfig::default().problems().is_empty());
        let retry = RetryConfig {
            max_attempts: Some(0),
            max_age_secs: None,
            backoff_base_secs: Some(10.0),
            backoff_max_secs: Some(1.0),
        };
        let fields: Vec<&str> = retry.problems().iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["max_attempts", "backoff_base_secs"]);
    }
}
