//! When to try a temporarily failed job again.

use std::time::Duration;

use herald_plugin_api::RetryConfig;
use rand::Rng;

/// Exponential backoff with full jitter, capped, and limits on attempts and age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all before a job becomes a dead letter.
    pub max_attempts: u32,
    /// How long after it was queued a job may still be retried.
    pub max_age: Duration,
    /// The delay ceiling after the first failure; it doubles with each attempt.
    pub base: Duration,
    /// The largest delay ceiling.
    pub max: Duration,
}

impl RetryPolicy {
    /// The policy `config` describes; unset fields take the defaults herald ships with.
    pub fn from_config(config: RetryConfig) -> Self {
        let secs = |value: Option<f64>, default: f64| {
            Duration::try_from_secs_f64(value.unwrap_or(default)).unwrap_or(Duration::ZERO)
        };
        Self {
            max_attempts: config.max_attempts.unwrap_or(10).max(1),
            max_age: Duration::from_secs(config.max_age_secs.unwrap_or(3 * 24 * 3600)),
            base: secs(config.backoff_base_secs, 10.0),
            max: secs(config.backoff_max_secs, 3600.0),
        }
    }

    /// The delay ceiling after `attempt` (1-based) failed: `base * 2^(attempt-1)`, capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << exponent)
            .map_or(self.max, |delay| delay.min(self.max))
    }

    /// The delay before the next attempt: uniformly random up to the ceiling ("full
    /// jitter"), so retries from one outage spread out instead of arriving together;
    /// never shorter than the downstream's own `Retry-After`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(attempt);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let jittered = Duration::from_millis(rand::rng().random_range(0..=millis));
        retry_after.map_or(jittered, |after| jittered.max(after))
    }

    /// Whether another attempt is allowed after `attempt` (counted since the job was
    /// queued) failed, `age` after it was queued, the next one being `delay` away.
    pub fn allows_retry_after(&self, attempt: u32, age: Duration, delay: Duration) -> bool {
        attempt < self.max_attempts && age.saturating_add(delay) <= self.max_age
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            max_age: Duration::from_secs(3600),
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
        }
    }

    #[test]
    fn ceiling_doubles_until_the_cap() {
        let p = policy();
        assert_eq!(p.ceiling(1), Duration::from_secs(10));
        assert_eq!(p.ceiling(2), Duration::from_secs(20));
        assert_eq!(p.ceiling(3), Duration::from_secs(40));
        assert_eq!(p.ceiling(4), Duration::from_secs(60));
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn delay_stays_within_the_ceiling_and_honours_retry_after() {
        let p = policy();
        for attempt in 1..10 {
            assert!(p.delay(attempt, None) <= p.ceiling(attempt));
        }
        let after = Duration::from_secs(120);
        assert!(p.delay(1, Some(after)) >= after);
    }

    #[test]
    fn retries_stop_at_max_attempts() {
        let p = policy();
        let zero = Duration::ZERO;
        assert!(p.allows_retry_after(4, zero, zero));
        assert!(!p.allows_retry_after(5, zero, zero));
    }

    #[test]
    fn retries_stop_when_the_next_attempt_would_be_past_max_age() {
        let p = policy();
        let minute = Duration::from_secs(60);
        assert!(p.allows_retry_after(1, Duration::from_secs(3000), minute));
        assert!(!p.allows_retry_after(1, Duration::from_secs(3590), minute));
    }

    #[test]
    fn unset_fields_take_the_shipped_defaults() {
        let p = RetryPolicy::from_config(RetryConfig {
            max_attempts: Some(3),
            backoff_base_secs: Some(0.05),
            ..RetryConfig::default()
        });
        assert_eq!(p.max_attempts, 3);
        assert_eq!(p.base, Duration::from_millis(50));
        assert_eq!(p.max, Duration::from_secs(3600));
        assert_eq!(p.max_age, Duration::from_secs(3 * 24 * 3600));
    }
}
