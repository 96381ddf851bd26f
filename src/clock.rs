//! Where herald reads the time: the system clock, or, in tests, one they set.
//!
//! Times travel as Unix milliseconds (`i64`), as the store keeps them.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The system clock's time now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A clock handed to what reads the time, so a test can hold it still or move it
/// on; cheap to clone. [`Clock::default`] is the system clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None` for the system clock; otherwise the time a test set.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `at_ms` until moved with [`Clock::advance`].
    pub fn manual(at_ms: i64) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(at_ms))),
        }
    }

    /// The time now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            Some(at) => at.load(Ordering::Relaxed),
            None => now_ms(),
        }
    }

    /// Moves a manual clock (and its clones) on by `by`; the system clock moves by itself.
    pub fn advance(&self, by: Duration) {
        if let Some(at) = &self.manual {
            let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
            at.fetch_add(by, Ordering::Relaxed);
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
        other.advance(Duration::from_millis(250));
        assert_eq!(clock.now_ms(), 1_250);
    }

    #[test]
    fn the_system_clock_reads_the_time() {
        let before = now_ms();
        let read = Clock::system().now_ms();
        assert!(read >= before && read <= now_ms());
    }
}
