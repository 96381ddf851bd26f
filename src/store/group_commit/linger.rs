//! Lingering: a small batch waits a moment for the writes its arrival rate promises.

use std::time::{Duration, Instant};

/// When a small batch waits for more writes before it is written.
///
/// Only a batch smaller than `enough` waits, and only when writes have been
/// arriving fast enough that at least one more can be expected within `max`: a
/// fixed set of busy callers already fills each batch, and waiting would only
/// delay them, while a trickle would wait for nothing.
#[derive(Clone, Copy, Debug)]
pub struct Linger {
    /// A batch of this many writes or more is written at once.
    pub enough: usize,
    /// The longest a batch waits. The writer's timer counts whole milliseconds,
    /// so a wait of 1 ms lasts 1 to 2 ms.
    pub max: Duration,
}

/// How long the arrival rate is counted over before it is estimated again.
pub(super) const RATE_WINDOW: Duration = Duration::from_millis(20);

/// Writes taken per second, counted over windows of [`RATE_WINDOW`].
pub(super) struct ArrivalRate {
    pub(super) per_sec: f64,
    pub(super) since: Instant,
    pub(super) taken: usize,
}

impl ArrivalRate {
    /// No estimate yet; the first window starts at `now`.
    pub(super) fn new(now: Instant) -> Self {
        Self {
            per_sec: 0.0,
            since: now,
            taken: 0,
        }
    }

    /// Counts `n` writes taken at `now`.
    pub(super) fn taken(&mut self, n: usize, now: Instant) {
        self.taken += n;
        let elapsed = now.saturating_duration_since(self.since);
        if elapsed >= RATE_WINDOW {
            self.per_sec = self.taken as f64 / elapsed.as_secs_f64();
            self.since = now;
            self.taken = 0;
        }
    }

    /// How long a batch of `size` waits under `linger`; zero if it should not.
    pub(super) fn wait(&self, size: usize, linger: Linger) -> Duration {
        let missing = linger.enough.saturating_sub(size);
        if missing == 0 || self.per_sec * linger.max.as_secs_f64() < 1.0 {
            return Duration::ZERO;
        }
        linger
            .max
            .min(Duration::from_secs_f64(missing as f64 / self.per_sec))
    }
}
