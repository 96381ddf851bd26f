//! How steady the machine's CPUs are while nothing else runs.
//!
//! On a shared VM the host can take CPU time away for a while: the same work then
//! takes several times as long, and every queue in herald grows meanwhile. A tail
//! latency measured on such a host is partly the host's. So before the scenarios,
//! each core times a fixed piece of work, about every millisecond, and the report
//! says how often a 100 ms window ran much slower than usual. The mean, not the
//! median: CPU time the host took is what herald would have lost.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// A window counts as slow when its pieces took this many times the usual on average.
const SLOW_FACTOR: f64 = 2.0;

/// The length of a window.
const WINDOW: Duration = Duration::from_millis(100);

/// The time a piece of work takes on a quiet core.
const PIECE: Duration = Duration::from_micros(100);

/// What the probe saw on every core together.
pub struct Steadiness {
    /// Windows observed, over all cores.
    pub windows: usize,
    /// Windows whose pieces took at least [`SLOW_FACTOR`] times the usual on average.
    pub slow: usize,
    /// The slowest window's mean piece, as a multiple of the usual.
    pub worst: f64,
}

impl Steadiness {
    /// The slow windows' share, in percent.
    pub fn slow_percent(&self) -> f64 {
        if self.windows == 0 {
            0.0
        } else {
            100.0 * self.slow as f64 / self.windows as f64
        }
    }

    /// One line for the table's header.
    pub fn line(&self, duration: Duration) -> String {
        let share = self.slow_percent();
        format!(
            "host steadiness ({} s, idle): the same work ran {SLOW_FACTOR:.0}× slower or worse \
             in {share:.1}% of {} ms windows; worst {:.1}×",
            duration.as_secs(),
            WINDOW.as_millis(),
            self.worst
        )
    }
}

/// Spins a dependent chain `iterations` long, which no compiler can skip.
fn work(iterations: u64) {
    let mut x = black_box(1.0_f64);
    for _ in 0..iterations {
        x = black_box(x * 1.000_000_1 + 0.5);
    }
    black_box(x);
}

/// Iterations of [`work`] that take about [`PIECE`] here, from the quickest of a few tries.
// The count is at least 1 and a piece's worth of loop turns, far below `u64::MAX`.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn calibrate() -> u64 {
    let trial = 100_000;
    let quickest = (0..20)
        .map(|_| {
            let start = Instant::now();
            work(trial);
            start.elapsed()
        })
        .min()
        .unwrap_or(PIECE)
        .max(Duration::from_nanos(1));
    let per_iteration = quickest.as_secs_f64() / trial as f64;
    (PIECE.as_secs_f64() / per_iteration).max(1.0) as u64
}

/// The mean time of the pieces on one core, window by window.
fn window_means(iterations: u64, duration: Duration) -> Vec<f64> {
    let end = Instant::now() + duration;
    let mut means = Vec::new();
    while Instant::now() < end {
        let window_end = Instant::now() + WINDOW;
        let (mut total, mut pieces) = (0.0, 0_u32);
        while Instant::now() < window_end {
            let start = Instant::now();
            work(iterations);
            total += start.elapsed().as_secs_f64();
            pieces += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        if pieces > 0 {
            means.push(total / f64::from(pieces));
        }
    }
    means
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Probes every core for `duration`; call it while nothing else runs.
pub fn measure(duration: Duration) -> Steadiness {
    let iterations = calibrate();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let per_core: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let probes: Vec<_> = (0..cores)
            .map(|_| scope.spawn(move || window_means(iterations, duration)))
            .collect();
        probes
            .into_iter()
            .filter_map(|probe| probe.join().ok())
            .collect()
    });
    let mut all: Vec<f64> = per_core.iter().flatten().copied().collect();
    let usual = median(&mut all);
    summarize(&all, usual)
}

/// Counts the windows at least [`SLOW_FACTOR`] times `usual`.
fn summarize(means: &[f64], usual: f64) -> Steadiness {
    if usual <= 0.0 {
        return Steadiness {
            windows: means.len(),
            slow: 0,
            worst: 1.0,
        };
    }
    let ratios = means.iter().map(|m| m / usual);
    Steadiness {
        windows: means.len(),
        slow: ratios.clone().filter(|r| *r >= SLOW_FACTOR).count(),
        worst: ratios.fold(1.0, f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_windows_are_counted_against_the_usual() {
        let report = summarize(&[1.0, 1.1, 0.9, 2.5, 4.0], 1.0);
        assert_eq!((report.windows, report.slow), (5, 2));
        assert!((report.worst - 4.0).abs() < 1e-9);
        assert!(report
            .line(Duration::from_secs(5))
            .contains("40.0% of 100 ms windows"));
    }

    #[test]
    fn nothing_measured_reads_as_steady() {
        let report = summarize(&[], 0.0);
        assert_eq!((report.windows, report.slow), (0, 0));
    }
}
