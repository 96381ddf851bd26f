//! Where the FCM token cache reads the time: the system clock, or one a test holds
//! still and moves on, so token expiry is tested without waiting for it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// A wall clock; cheap to clone. [`Clock::default`] is the system clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None` for the system clock; otherwise the time a test set.
    manual: Option<Arc<Mutex<SystemTime>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `at` until moved with [`Clock::advance`].
    pub fn manual(at: SystemTime) -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// The time now.
    pub fn now(&self) -> SystemTime {
        match &self.manual {
            Some(at) => *at.lock().unwrap_or_else(PoisonError::into_inner),
            None => SystemTime::now(),
        }
    }

    /// Moves a manual clock (and its clones) on by `by`; the system clock moves by itself.
    pub fn advance(&self, by: Duration) {
        if let Some(at) = &self.manual {
            let mut at = at.lock().unwrap_or_else(PoisonError::into_inner);
            *at += by;
        }
    }

    /// The time now in Unix seconds, as JWT claims carry it; 0 before 1970.
    pub fn unix_secs(&self) -> u64 {
        self.now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_with_it() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = Clock::manual(start);
        let other = clock.clone();
        assert_eq!(clock.unix_secs(), 1_000);
        other.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now(), start + Duration::from_millis(1_500));
        assert!(Clock::system().unix_secs() > 1_000);
    }
}
