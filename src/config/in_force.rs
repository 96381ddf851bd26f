//! The config a running herald is using, for the admin API to show: the one it
//! started with, then each one a reload applied.

use std::sync::{Arc, PoisonError, RwLock};

use super::Config;

/// A shared handle on the config in force; cheap to clone.
#[derive(Clone)]
pub struct InForce(Arc<RwLock<Arc<Config>>>);

impl InForce {
    /// `config` in force.
    pub fn new(config: Config) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The config in force now.
    pub fn get(&self) -> Arc<Config> {
        // Held for an Arc clone, never across an await.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `config` in force, as a reload does.
    pub fn set(&self, config: Config) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
    }
}
