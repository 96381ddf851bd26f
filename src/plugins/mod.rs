//! The closed set of plugin kinds, listed once in `kinds.rs`, and the running instances.
//!
//! Config parsing takes its `[plugins.*]` table from the list ([`PluginsConfig`]);
//! validation walks every configured instance through its kind's
//! [`PluginConfig`](herald_plugin_api::PluginConfig) ([`validate`]); start-up builds each
//! [`PluginSpec`] into the [`PluginSet`] the dispatcher delivers through. None of it
//! matches on a kind, and none of it sees the store: the ledgers come in the
//! [`BuildContext`](herald_plugin_api::BuildContext).

mod delivery;
mod kinds;
mod set;
mod spec;

use std::collections::BTreeMap;
use std::path::Path;

use herald_plugin_api::{ConfigIssue, Env, Templates, ValidateContext};

pub use self::delivery::{Delivery, RateLimit, RateLimitError, DEFAULT_FAILOVER_AFTER};
pub use self::kinds::PluginsConfig;
pub use self::set::PluginSet;
pub use self::spec::PluginSpec;

/// What validating `[plugins.*]` found.
pub struct CheckedPlugins {
    /// The instances that passed their kind's validation.
    pub specs: Vec<PluginSpec>,
    /// Every configured instance's kind, by name, valid or not: rules may name any.
    pub kinds: BTreeMap<String, &'static str>,
    /// Every problem, each at its dotted key.
    pub issues: Vec<ConfigIssue>,
}

/// Validates every configured instance with its kind's rules, and checks that no two
/// instances share a name (rules name instances, whatever their kind).
pub fn validate(
    plugins: PluginsConfig,
    env: &dyn Env,
    base_dir: &Path,
    templates: Option<&dyn Templates>,
) -> CheckedPlugins {
    let mut checked = CheckedPlugins {
        specs: Vec::new(),
        kinds: BTreeMap::new(),
        issues: Vec::new(),
    };
    for pending in plugins.into_pending() {
        let key = format!("plugins.{}.{}", pending.kind, pending.name);
        if checked
            .kinds
            .insert(pending.name.clone(), pending.kind)
            .is_some()
        {
            checked.issues.push(ConfigIssue::new(
                key.clone(),
                format!(
                    "another plugin instance is already named `{}`: rules name instances, \
                     so names must be unique across kinds",
                    pending.name
                ),
            ));
        }
        let name = pending.name.clone();
        // Named here, not taken from the key: an instance name may hold a dot.
        let mut cx = ValidateContext {
            name: &name,
            ..ValidateContext::new(&key, env).with_base_dir(base_dir)
        };
        if let Some(templates) = templates {
            cx = cx.with_templates(templates);
        }
        match pending.validate(&cx) {
            Ok(spec) => checked.specs.push(spec),
            Err(issues) => checked.issues.extend(issues),
        }
    }
    checked
}
