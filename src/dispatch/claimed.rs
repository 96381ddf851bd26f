//! How many claimed jobs each destination holds, so one slow destination's
//! backlog cannot fill every claimed-ahead place.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::shared::Shared;
use super::CLAIMED_PER_SLOT;

/// Jobs claimed and not yet recorded, per plugin instance, so that one slow
/// destination's backlog cannot fill every claimed-ahead place: each instance
/// may have [`CLAIMED_PER_SLOT`] jobs per unit of its `max_concurrency`, and the
/// claims skip it while it has that many.
pub(super) struct ClaimedPerDestination {
    /// Per instance: its jobs in hand, and how many it may have.
    counts: HashMap<String, (Arc<AtomicUsize>, usize)>,
}

impl ClaimedPerDestination {
    pub(super) fn new(shared: &Shared) -> Self {
        let live = shared.live.get();
        let counts = live
            .plugins
            .names()
            .map(|plugin| {
                let most = live
                    .plugins
                    .max_concurrency(plugin)
                    .max(1)
                    .saturating_mul(CLAIMED_PER_SLOT);
                (plugin.to_owned(), (Arc::new(AtomicUsize::new(0)), most))
            })
            .collect();
        Self { counts }
    }

    /// The instances that have all the jobs they may have.
    pub(super) fn full(&self) -> Vec<String> {
        self.counts
            .iter()
            .filter(|(_, (count, most))| count.load(Ordering::Relaxed) >= *most)
            .map(|(plugin, _)| plugin.clone())
            .collect()
    }

    /// Counts a job claimed for `plugin`, unless its instance already has all the
    /// jobs it may have. A plugin not configured has no count.
    pub(super) fn admit(&self, plugin: &str) -> Admitted {
        let Some((count, most)) = self.counts.get(plugin) else {
            return Admitted::Yes(None);
        };
        if count.load(Ordering::Relaxed) >= *most {
            return Admitted::Full;
        }
        count.fetch_add(1, Ordering::Relaxed);
        Admitted::Yes(Some(Counted(count.clone())))
    }
}

/// Whether a claimed job may wait for its turn.
pub(super) enum Admitted {
    /// Yes, counted until the guard is dropped.
    Yes(Option<Counted>),
    /// Its destination has all the jobs it may have.
    Full,
}

/// One claimed job in its instance's count; leaves it when dropped.
pub(super) struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
