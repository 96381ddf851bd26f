//! Where herald reads the time: the system clock, or, in tests, one they set.
//!
//! Times travel as Unix milliseconds (`i64`), as the store keeps them.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The system clock's time now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A clock handed to what reads the time, so a test can hold it still or move it
/// on; cheap to clone. [`Clock::default`] is the system clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None` for the system clock; otherwise the time a test set.
    manual: Option<Arc<Manual>>,
}

/// A clock a test sets, and where it started, so it can tell an [`Instant`] too.
#[derive(Debug)]
struct Manual {
    at: AtomicI64,
    start_ms: i64,
    start: Instant,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `at_ms` until moved with [`Clock::advance`].
    pub fn manual(at_ms: i64) -> Self {
        Self {
            manual: Some(Arc::new(Manual {
                at: AtomicI64::new(at_ms),
                start_ms: at_ms,
                start: Instant::now(),
            })),
        }
    }

    /// The time now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            Some(manual) => manual.at.load(Ordering::Relaxed),
            None => now_ms(),
        }
    }

    /// The monotonic time now, for measuring spans (how long a breaker has been
    /// open): a manual clock's moves by as much as [`Clock::advance`] moves it.
    pub fn instant(&self) -> Instant {
        match &self.manual {
            Some(manual) => {
                let moved = manual
                    .at
                    .load(Ordering::Relaxed)
                    .saturating_sub(manual.start_ms);
                manual.start + Duration::from_millis(u64::try_from(moved).unwrap_or(0))
            }
            None => Instant::now(),
        }
    }

    /// Moves a manual clock (and its clones) on by `by`; the system clock moves by itself.
    pub fn advance(&self, by: Duration) {
        if let Some(manual) = &self.manual {
            let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
            manual.at.fetch_add(by, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_its_clones_move_with_it() {
        let clock = Clock::manual(1_000);
        let other = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        let before = clock.instant();
        other.advance(Duration::from_millis(250));
        assert_eq!(clock.now_ms(), 1_250);
        assert_eq!(clock.instant() - before, Duration::from_millis(250));
    }

    #[test]
    fn the_system_clock_reads_the_time() {
        let before = now_ms();
        let read = Clock::system().now_ms();
        assert!(read >= before && read <= now_ms());
    }
}
