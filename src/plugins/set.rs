//! [`PluginSet`]: the running instances, by name, with what the dispatcher needs to
//! know of each (retry overrides, in-flight limit).

use std::collections::HashMap;
use std::sync::Arc;

use herald_plugin_api::{BuildContext, Plugin, PluginError, RetryConfig};

use super::delivery::Delivery;
use super::spec::{PluginSpec, UNLIMITED};

/// The running plugin instances, by name.
#[derive(Clone, Default)]
pub struct PluginSet {
    instances: HashMap<String, Arc<dyn Plugin>>,
    max_concurrency: HashMap<String, usize>,
    delivery: HashMap<String, Delivery>,
}

impl PluginSet {
    /// Builds every configured instance (this is where plugins do their I/O set-up)
    /// from the handles in `cx`.
    ///
    /// # Errors
    /// The first instance that could not be built.
    pub async fn build(specs: &[PluginSpec], cx: &BuildContext) -> Result<Self, PluginError> {
        let mut set = Self::default();
        for spec in specs {
            let plugin = spec.build(cx).await?;
            let name = spec.name().to_owned();
            set.instances.insert(name.clone(), plugin);
            set.delivery.insert(name.clone(), spec.delivery());
            set.max_concurrency.insert(name, spec.max_concurrency());
        }
        Ok(set)
    }

    /// The retry overrides of the instance named `name`.
    pub fn retry_for(&self, name: &str) -> RetryConfig {
        self.delivery
            .get(name)
            .map(|delivery| delivery.retry)
            .unwrap_or_default()
    }

    /// Most deliveries in flight to the instance named `name` at once.
    pub fn max_concurrency(&self, name: &str) -> usize {
        self.max_concurrency.get(name).copied().unwrap_or(UNLIMITED)
    }

    /// The `rate_limit` and `failover_after_secs` of the instance named `name`.
    pub fn delivery(&self, name: &str) -> Delivery {
        self.delivery.get(name).copied().unwrap_or_default()
    }

    /// The names of every instance.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.instances.keys().map(String::as_str)
    }

    /// The instance named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Plugin>> {
        self.instances.get(name)
    }
}
