//! Per-instance delivery rates (`rate_limit = "10/s"`): herald spaces the
//! deliveries to an instance itself, rather than sending what is due at once and
//! collecting the provider's 429s.
//!
//! Each instance's bucket holds one token: a delivery takes the next free moment,
//! one interval after the one before, and waits for it on tokio's clock (so a test
//! can pause it). A bucket as deep as the rate would let a full period's worth go
//! at once and the next period's right after: twice the rate over a window that
//! straddles the two, which is what a provider counting per second refuses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::plugins::RateLimit;

/// One instance's bucket.
#[derive(Debug)]
struct Bucket {
    rate: RateLimit,
    interval: Duration,
    /// The next free moment; `None` before the first delivery.
    // A std Mutex: held to read and move one instant, never across an await.
    next: Mutex<Option<Instant>>,
}

impl Bucket {
    fn new(rate: RateLimit) -> Self {
        Self {
            rate,
            interval: rate.interval(),
            next: Mutex::new(None),
        }
    }

    /// Takes the next free moment: now if it is free, else the moment after the
    /// last one taken. Moments are taken in the order of the calls.
    fn take(&self) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let at = next.map_or(now, |free| free.max(now));
        *next = Some(at + self.interval);
        at
    }
}

/// The buckets of every instance with a `rate_limit`, made as their first job
/// comes; a reload that changes an instance's rate starts its bucket afresh.
#[derive(Debug, Default)]
pub(super) struct Rates {
    buckets: Mutex<HashMap<String, Arc<Bucket>>>,
}

impl Rates {
    fn buckets(&self) -> MutexGuard<'_, HashMap<String, Arc<Bucket>>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for `plugin`'s next free moment at `rate`; at once without a rate.
    pub(super) async fn wait(&self, plugin: &str, rate: Option<RateLimit>) {
        let Some(rate) = rate else {
            return;
        };
        let bucket = {
            let mut buckets = self.buckets();
            match buckets.get(plugin) {
                Some(bucket) if bucket.rate == rate => bucket.clone(),
                _ => {
                    let bucket = Arc::new(Bucket::new(rate));
                    buckets.insert(plugin.to_owned(), bucket.clone());
                    bucket
                }
            }
        };
        tokio::time::sleep_until(bucket.take()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> Option<RateLimit> {
        Some(text.parse().expect("rate"))
    }

    #[tokio::test(start_paused = true)]
    async fn a_hundred_deliveries_at_20_per_second_are_spaced_50_ms_apart() {
        let rates = Rates::default();
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..100 {
            rates.wait("sms", rate("20/s")).await;
            at.push(Instant::now() - start);
        }
        let expected: Vec<Duration> = (0..100).map(|i| Duration::from_millis(50 * i)).collect();
        assert_eq!(at, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_deliveries_go_in_the_order_they_came_each_at_its_moment() {
        let rates = Arc::new(Rates::default());
        let start = Instant::now();
        let went = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..10_u64 {
            let (rates, went) = (rates.clone(), went.clone());
            tasks.spawn(async move {
                rates.wait("sms", rate("10/s")).await;
                let at = (Instant::now() - start).as_millis();
                went.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((i, at));
            });
            // Each reaches the bucket before the next is spawned, as jobs reach
            // their turn one after another.
            tokio::task::yield_now().await;
        }
        while tasks.join_next().await.is_some() {}
        let went = went.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let expected: Vec<(u64, u128)> = (0..10).map(|i| (i, u128::from(i) * 100)).collect();
        assert_eq!(went, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn instances_are_paced_apart_and_unlimited_ones_not_at_all() {
        let rates = Rates::default();
        let start = Instant::now();
        rates.wait("sms", rate("1/s")).await;
        rates.wait("email", rate("1/s")).await;
        rates.wait("hook", None).await;
        rates.wait("hook", None).await;
        assert_eq!(Instant::now(), start, "nobody waited");
        rates.wait("sms", rate("1/s")).await;
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_rate_starts_the_bucket_afresh() {
        let rates = Rates::default();
        let start = Instant::now();
        rates.wait("sms", rate("1/h")).await;
        rates.wait("sms", rate("10/s")).await;
        assert_eq!(
            Instant::now(),
            start,
            "the hour's wait went with the old rate"
        );
    }
}
