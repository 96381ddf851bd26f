//! Progress on stderr for the operator commands that can run long: a bar where the
//! work comes in counted batches (replay), a spinner where it is one statement
//! (redeliver, prune). Both stay silent when stderr is not a terminal, so scripts,
//! pipes and logs see only the result lines.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a spinner turns while the database works.
const TICK: Duration = Duration::from_millis(120);

/// A bar of `total` steps labelled `what`, drawn on stderr when it is a terminal.
pub(super) fn bar(what: &'static str, total: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(total).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    // The template is a constant, so this only falls back if it were mistyped.
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
        .map_or_else(
            |_| ProgressStyle::default_bar(),
            |s| s.progress_chars("#>-"),
        );
    bar.set_style(style);
    bar.set_message(what);
    bar
}

/// A spinner labelled `what`, drawn on stderr when it is a terminal.
pub(super) fn spinner(what: String) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    spinner.set_message(what);
    spinner.enable_steady_tick(TICK);
    spinner
}

/// Sets a bar to `done`; widened here so callers count in `usize`.
pub(super) fn advance(bar: &ProgressBar, done: usize) {
    bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
}
