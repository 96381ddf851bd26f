//! [`Live`]: the running snapshot, what new work reads at its start, swapped whole
//! by a reload.

use std::sync::Arc;

use arc_swap::ArcSwap;
use herald_plugin_api::{BuildContext, PluginError};
use serde_json::Value;

use crate::config::Config;
use crate::plugins::PluginSet;
use crate::rules::Rules;
use crate::store::Store;

/// What a running herald works with: the config in force and the plugins built
/// from it. The webhook handler plans with its rules, the dispatcher delivers
/// through its plugins with its shop, and the admin API and console show it.
pub struct Snapshot {
    /// The config in force. Its restart-only part is the one herald started with,
    /// whatever a reload read since.
    pub config: Arc<Config>,
    /// The plugin instances built from it; the templates live in the plugins that
    /// render them.
    pub plugins: PluginSet,
    /// What `herald check` finds wrong with the config, one entry each. Only the
    /// start-up config can have any: a reload with problems is refused.
    pub problems: Arc<[String]>,
}

impl Snapshot {
    /// Builds the plugins of `config`, whose ledgers are `store`: the one way a
    /// snapshot is made, at start and at every reload.
    ///
    /// # Errors
    /// When a plugin cannot be set up.
    pub async fn assemble(
        config: Config,
        store: &Store,
        problems: Vec<String>,
    ) -> Result<Self, PluginError> {
        let handles = BuildContext::new(config.reloadable.templates.clone())
            .with_order_ledger(Arc::new(store.clone()))
            .with_stock_ledger(Arc::new(store.clone()))
            .with_subscription_ledger(Arc::new(store.clone()));
        let plugins = PluginSet::build(&config.reloadable.plugins, &handles).await?;
        Ok(Self::new(config, plugins, problems))
    }

    /// A snapshot of `config` with plugins built already (tests, benches).
    pub fn new(config: Config, plugins: PluginSet, problems: Vec<String>) -> Self {
        Self {
            config: Arc::new(config),
            plugins,
            problems: Arc::from(problems),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &Arc<Rules> {
        &self.config.reloadable.rules
    }

    /// `[shop]`, which every template sees.
    pub fn shop(&self) -> &Value {
        &self.config.reloadable.shop
    }
}

/// The [`Snapshot`] in force, shared by the receiver, the dispatcher, the admin
/// listener and the reloader. A reader takes its own `Arc` and keeps it for the
/// whole job, so a delivery in flight finishes with what it started with.
#[derive(Clone)]
pub struct Live(Arc<ArcSwap<Snapshot>>);

impl Live {
    /// Puts `snapshot` in force.
    pub fn new(snapshot: Snapshot) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(snapshot)))
    }

    /// What is in force now.
    pub fn get(&self) -> Arc<Snapshot> {
        self.0.load_full()
    }

    /// Puts `snapshot` in force for everything that starts from now on.
    pub fn swap(&self, snapshot: Snapshot) {
        self.0.store(Arc::new(snapshot));
    }
}
