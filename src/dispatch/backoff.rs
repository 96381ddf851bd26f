//! When to try a temporarily failed job again.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with full jitter, capped, and a limit on attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all before a job becomes a dead letter.
    pub max_attempts: u32,
    /// The delay ceiling after the first failure; it doubles with each attempt.
    pub base: Duration,
    /// The largest delay ceiling.
    pub max: Duration,
}

impl RetryPolicy {
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

    /// Whether another attempt is allowed after `attempt` failed.
    pub fn allows_retry_after(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
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
        assert!(p.allows_retry_after(4));
        assert!(!p.allows_retry_after(5));
    }
}
