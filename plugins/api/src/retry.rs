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
