//! A circuit breaker per destination: stop hammering one that keeps failing.
//!
//! After `threshold` temporary failures in a row the breaker opens: that
//! destination's jobs are put back, uncounted, until the cooldown ends. Then one
//! job goes through as a probe; success closes the breaker, failure reopens it for
//! twice as long (capped). Jobs wait; none is dropped.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest an open breaker waits before probing again.
const MAX_COOLDOWN: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    /// When it opened, kept through failed probes until a success closes it.
    opened_at: Option<Instant>,
    cooldown: Duration,
    probing: bool,
}

/// One destination's breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    base_cooldown: Duration,
    // A std Mutex: held for a few field updates, never across an await.
    state: Mutex<State>,
}

/// Whether a job may go to the destination now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Go ahead.
    Allowed,
    /// The breaker is open; try again at this instant.
    HeldUntil(Instant),
}

impl CircuitBreaker {
    /// A closed breaker; `threshold` 0 never opens.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold,
            base_cooldown: cooldown,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Asks to send one job at `now`.
    pub fn permit(&self, now: Instant) -> Permit {
        let mut state = self.state();
        match state.open_until {
            None => Permit::Allowed,
            Some(until) if now < until => Permit::HeldUntil(until),
            // Cooldown over: one probe at a time.
            Some(_) if state.probing => {
                Permit::HeldUntil(now + self.base_cooldown.min(Duration::from_secs(1)))
            }
            Some(_) => {
                state.probing = true;
                Permit::Allowed
            }
        }
    }

    /// Reports that a job reached the destination (delivered, or refused for good:
    /// either way the destination answers). Returns whether that closed the breaker.
    pub fn record_success(&self) -> bool {
        let mut state = self.state();
        let was_open = state.open_until.is_some();
        *state = State::default();
        was_open
    }

    /// Reports a temporary failure at `now`.
    pub fn record_failure(&self, now: Instant) {
        if self.threshold == 0 {
            return;
        }
        let mut state = self.state();
        state.failures = state.failures.saturating_add(1);
        if state.probing || state.failures >= self.threshold {
            state.cooldown = if state.probing {
                (state.cooldown * 2).clamp(self.base_cooldown, MAX_COOLDOWN)
            } else {
                self.base_cooldown
            };
            state.open_until = Some(now + state.cooldown);
            state.opened_at.get_or_insert(now);
            state.probing = false;
        }
    }

    /// How long the breaker has been open at `now`, failed probes included;
    /// `None` while it is closed.
    pub fn open_for(&self, now: Instant) -> Option<Duration> {
        self.state()
            .opened_at
            .map(|opened| now.saturating_duration_since(opened))
    }

    /// Whether the breaker is open (or probing) right now; for metrics and tests.
    pub fn is_open(&self) -> bool {
        self.state().open_until.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(30);

    #[test]
    fn opens_after_threshold_consecutive_failures() {
        let breaker = CircuitBreaker::new(3, COOLDOWN);
        let now = Instant::now();
        breaker.record_failure(now);
        breaker.record_failure(now);
        assert_eq!(breaker.permit(now), Permit::Allowed);
        breaker.record_failure(now);
        assert_eq!(breaker.permit(now), Permit::HeldUntil(now + COOLDOWN));
    }

    #[test]
    fn a_success_resets_the_count() {
        let breaker = CircuitBreaker::new(3, COOLDOWN);
        let now = Instant::now();
        breaker.record_failure(now);
        breaker.record_failure(now);
        assert!(!breaker.record_success());
        breaker.record_failure(now);
        assert_eq!(breaker.permit(now), Permit::Allowed);
    }

    #[test]
    fn after_the_cooldown_one_probe_goes_through() {
        let breaker = CircuitBreaker::new(1, COOLDOWN);
        let now = Instant::now();
        breaker.record_failure(now);
        let later = now + COOLDOWN;
        assert_eq!(breaker.permit(later), Permit::Allowed);
        assert!(matches!(breaker.permit(later), Permit::HeldUntil(_)));
        assert!(breaker.record_success());
        assert_eq!(breaker.permit(later), Permit::Allowed);
        assert!(!breaker.is_open());
        assert!(!breaker.record_success());
    }

    #[test]
    fn a_failed_probe_reopens_for_longer() {
        let breaker = CircuitBreaker::new(1, COOLDOWN);
        let now = Instant::now();
        breaker.record_failure(now);
        let later = now + COOLDOWN;
        assert_eq!(breaker.permit(later), Permit::Allowed);
        breaker.record_failure(later);
        assert_eq!(
            breaker.permit(later),
            Permit::HeldUntil(later + COOLDOWN * 2)
        );
        assert_eq!(
            breaker.open_for(later),
            Some(COOLDOWN),
            "since it first opened"
        );
        breaker.record_success();
        assert_eq!(breaker.open_for(later), None);
    }

    #[test]
    fn threshold_zero_never_opens() {
        let breaker = CircuitBreaker::new(0, COOLDOWN);
        let now = Instant::now();
        for _ in 0..100 {
            breaker.record_failure(now);
        }
        assert_eq!(breaker.permit(now), Permit::Allowed);
    }
}
