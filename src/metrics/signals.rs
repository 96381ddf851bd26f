//! What this process saw that herald's own alerts are about but only it knows: the
//! webhooks it refused for their signature, and the breakers it holds open. The
//! alert watch writes them to the store every turn so that one replica can add up
//! what all of them saw.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// Signature failures not yet handed over, and the breakers open now.
#[derive(Debug, Default)]
pub struct Signals {
    signature_failures: Mutex<BTreeMap<String, u64>>,
    open_breakers: Mutex<BTreeSet<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Signals {
    /// A webhook of `source` was refused for its signature (401).
    pub fn signature_failed(&self, source: &str) {
        // No allocation on the path a flood of forged requests takes.
        let mut failures = lock(&self.signature_failures);
        match failures.get_mut(source) {
            Some(count) => *count += 1,
            None => {
                failures.insert(source.to_owned(), 1);
            }
        }
    }

    /// The signature failures since the last call, per source.
    pub fn take_signature_failures(&self) -> Vec<(String, u64)> {
        std::mem::take(&mut *lock(&self.signature_failures))
            .into_iter()
            .collect()
    }

    /// Puts back failures a failed write could not hand over.
    pub fn restore_signature_failures(&self, failures: &[(String, u64)]) {
        let mut held = lock(&self.signature_failures);
        for (source, count) in failures {
            *held.entry(source.clone()).or_default() += count;
        }
    }

    /// `plugin`'s breaker opened (`true`) or closed.
    pub fn breaker(&self, plugin: &str, open: bool) {
        let mut breakers = lock(&self.open_breakers);
        if open {
            breakers.insert(plugin.to_owned());
        } else {
            breakers.remove(plugin);
        }
    }

    /// The plugins whose breaker is open now.
    pub fn open_breakers(&self) -> Vec<String> {
        lock(&self.open_breakers).iter().cloned().collect()
    }
}
