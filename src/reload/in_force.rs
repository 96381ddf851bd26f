//! [`InForce`]: the whole config a running herald uses, for readers that need more
//! than [`super::Current`] holds (the console's template editor: the templates
//! folder, the rules and shop to check a draft against).

use std::sync::{Arc, PoisonError, RwLock};

use crate::config::Config;

/// The config in force, replaced by each good reload. Restart-only settings keep
/// the values herald started with, as the reloader keeps them.
#[derive(Clone)]
pub struct InForce(Arc<RwLock<Arc<Config>>>);

impl InForce {
    /// Puts `config` in force.
    pub fn new(config: Config) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The config in force now.
    pub fn get(&self) -> Arc<Config> {
        // Held for an Arc clone only.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the config in force.
    pub fn set(&self, config: Config) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
    }
}
