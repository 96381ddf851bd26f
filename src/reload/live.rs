//! [`Live`]: what new work reads at its start, swapped whole by a reload.

use std::sync::{Arc, PoisonError, RwLock};

use serde_json::Value;

use crate::plugins::PluginSet;
use crate::rules::Rules;

/// The part of the config a reload may change: the webhook handler plans with
/// its rules, the dispatcher delivers through its plugins with its shop. The
/// templates live in the plugins that render them, built with the new folder.
#[derive(Clone)]
pub struct Current {
    pub rules: Arc<Rules>,
    pub plugins: PluginSet,
    pub shop: Value,
}

/// The [`Current`] in force, shared by the receiver, the dispatcher and the
/// reloader. A reader takes its own `Arc` and keeps it for the whole job, so a
/// delivery in flight finishes with what it started with.
#[derive(Clone)]
pub struct Live(Arc<RwLock<Arc<Current>>>);

impl Live {
    /// Puts `current` in force.
    pub fn new(current: Current) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(current))))
    }

    /// What is in force now.
    pub fn get(&self) -> Arc<Current> {
        // The lock is held for an Arc clone, never across an await.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `current` in force for everything that starts from now on.
    pub fn swap(&self, current: Current) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(current);
    }
}
