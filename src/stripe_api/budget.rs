//! The request budget: requests are spaced evenly, at most `per_second` of them, so
//! a long reconcile never uses up the account's read limit that the shop's own
//! storefront also draws on (Stripe allows 100 reads a second in live mode, 25 in
//! test mode).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Requests a second when the config sets none: a quarter of test mode's limit.
pub const DEFAULT_PER_SECOND: u32 = 6;

/// Spaces requests `1 / per_second` apart, shared by every clone.
#[derive(Debug, Clone)]
pub struct Budget {
    gap: Duration,
    next: Arc<Mutex<Option<Instant>>>,
}

impl Budget {
    /// At most `per_second` requests a second (at least one).
    pub fn per_second(per_second: u32) -> Self {
        Self {
            gap: Duration::from_secs(1) / per_second.max(1),
            next: Arc::new(Mutex::new(None)),
        }
    }

    /// Waits for this request's turn.
    pub async fn take(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = next.map_or(now, |next| next.max(now));
            *next = Some(at + self.gap);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::per_second(DEFAULT_PER_SECOND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_evenly() {
        let budget = Budget::per_second(4);
        let start = Instant::now();
        for _ in 0..5 {
            budget.take().await;
        }
        // The first goes at once, each next a quarter second later.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }
}
