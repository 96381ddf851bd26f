//! The config a running herald is using, for the admin API and console to show: the
//! one it started with, then each one a reload applied; and what `herald check` finds
//! wrong with it (only the start-up config can have such problems: a reload with any
//! is refused).

use std::sync::{Arc, PoisonError, RwLock};

use super::Config;

/// A shared handle on the config in force; cheap to clone.
#[derive(Clone)]
pub struct InForce(Arc<RwLock<Current>>);

struct Current {
    config: Arc<Config>,
    problems: Arc<[String]>,
}

impl InForce {
    /// `config` in force, with no problems known.
    pub fn new(config: Config) -> Self {
        Self(Arc::new(RwLock::new(Current {
            config: Arc::new(config),
            problems: Arc::from([]),
        })))
    }

    /// The config in force now.
    pub fn get(&self) -> Arc<Config> {
        // Held for an Arc clone, never across an await.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .config
            .clone()
    }

    /// What `herald check` finds wrong with the config in force, one entry each.
    pub fn problems(&self) -> Arc<[String]> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .problems
            .clone()
    }

    /// Notes the problems of the config in force (at start-up).
    pub fn set_problems(&self, problems: Vec<String>) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .problems = Arc::from(problems);
    }

    /// Puts `config` in force, as a reload does: it passed the check, so it has no
    /// problems.
    pub fn set(&self, config: Config) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Current {
            config: Arc::new(config),
            problems: Arc::from([]),
        };
    }
}
