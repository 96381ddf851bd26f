//! Progress on stderr for the operator commands that can run long: a bar where the
//! work comes in counted batches (replay), a spinner where it is one statement
//! (redeliver, prune). Both stay silent when stderr is not a terminal, so scripts,
//! pipes and logs see only the result lines.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a spinner turns while the database works.
const TICK: Duration = Duration::from_millis(120);

/// A bar labelled `what` whose length is learnt with its first step: drawn only from
/// then on, so it never shows an empty `0/0` that reads as finished.
pub(super) struct LazyBar {
    what: &'static str,
    target: fn() -> ProgressDrawTarget,
    bar: Option<ProgressBar>,
}

impl LazyBar {
    /// A bar on stderr when it is a terminal.
    pub(super) fn new(what: &'static str) -> Self {
        Self::to(what, ProgressDrawTarget::stderr)
    }

    fn to(what: &'static str, target: fn() -> ProgressDrawTarget) -> Self {
        Self {
            what,
            target,
            bar: None,
        }
    }

    /// `done` of `total` steps; the first call draws the bar.
    pub(super) fn update(&mut self, done: usize, total: usize) {
        let (what, target) = (self.what, self.target);
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(widen(total)), target());
            // The template is a constant, so this only falls back if it were mistyped.
            let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
                .map_or_else(
                    |_| ProgressStyle::default_bar(),
                    |s| s.progress_chars("#>-"),
                );
            bar.set_style(style);
            bar.set_message(what);
            bar
        });
        bar.set_length(widen(total));
        bar.set_position(widen(done));
    }

    /// Takes the bar off the screen.
    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A spinner labelled `what`, drawn on stderr when it is a terminal.
pub(super) fn spinner(what: String) -> ProgressBar {
    spinner_to(what, ProgressDrawTarget::stderr())
}

fn spinner_to(what: String, target: ProgressDrawTarget) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, target);
    // Without its own style a bar of unknown length draws as an empty bar.
    let style = ProgressStyle::with_template("{spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    spinner.set_style(style);
    spinner.set_message(what);
    spinner.enable_steady_tick(TICK);
    spinner
}

/// A count as indicatif takes it.
fn widen(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use indicatif::InMemoryTerm;

    use super::*;

    fn term() -> InMemoryTerm {
        InMemoryTerm::new(4, 80)
    }

    /// The spinner drew an empty `[ ] 0/0` bar, as an unstyled bar of no length does.
    #[test]
    fn a_spinner_draws_its_message_and_no_bar() {
        let screen = term();
        let spinner = spinner_to(
            "pruning".to_owned(),
            ProgressDrawTarget::term_like(Box::new(screen.clone())),
        );
        spinner.tick();
        let text = screen.contents();
        let line = text.lines().next().unwrap_or_default().trim();
        // One spinner glyph, then the message: no bar, no count.
        let (glyph, message) = line.split_once(' ').unwrap_or_default();
        assert_eq!((glyph.chars().count(), message), (1, "pruning"), "{text:?}");
    }

    thread_local! {
        static SCREEN: InMemoryTerm = InMemoryTerm::new(4, 80);
    }

    fn screen_target() -> ProgressDrawTarget {
        ProgressDrawTarget::term_like(Box::new(SCREEN.with(Clone::clone)))
    }

    /// The replay bar was made with length 0 and drew as full before the first batch.
    #[test]
    fn a_lazy_bar_draws_nothing_until_it_knows_its_length() {
        let mut bar = LazyBar::to("replaying", screen_target);
        assert_eq!(SCREEN.with(InMemoryTerm::contents).trim(), "");
        bar.update(0, 10);
        let text = SCREEN.with(InMemoryTerm::contents);
        assert!(
            text.contains("replaying") && text.contains("0/10"),
            "{text:?}"
        );
        bar.finish();
    }
}
