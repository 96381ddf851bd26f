//! The list of plugin kinds herald runs: written once, one line per kind.
//!
//! [`plugin_kinds!`] turns the list into the `[plugins.*]` table (one map per kind, so
//! an unknown key is reported at its own line and a misspelt kind is named with the
//! kinds that exist) and into the walk over every configured instance that
//! validation, `check` and start-up share. Adding a kind is one line here.

use std::collections::BTreeMap;
use std::fmt;

use herald_plugin_api::PluginConfig;
use serde::Deserialize;

use super::spec::Pending;

/// Generates [`PluginsConfig`] and its walk over the instances from `field: Config` lines.
macro_rules! plugin_kinds {
    ($($field:ident: $kind:ty),+ $(,)?) => {
        /// `[plugins.<kind>.<instance>]`: one map per kind.
        #[derive(Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct PluginsConfig {
            $(
                #[serde(default)]
                $field: BTreeMap<String, $kind>,
            )+
        }

        impl PluginsConfig {
            /// Every configured instance, kind by kind in the list's order, each
            /// waiting for its kind's validation.
            pub(super) fn into_pending(self) -> Vec<Pending> {
                let mut pending = Vec::new();
                $(
                    // The table's key is the kind's own name, or config and docs disagree.
                    const _: () = assert!(same(stringify!($field), <$kind as PluginConfig>::KIND));
                    pending.extend(
                        self.$field
                            .into_iter()
                            .map(|(name, config)| Pending::new(name, config)),
                    );
                )+
                pending
            }

            /// `(kind, instance)` for every configured instance, in the list's order.
            fn names(&self) -> Vec<(&'static str, &str)> {
                let mut names = Vec::new();
                $(
                    names.extend(
                        self.$field
                            .keys()
                            .map(|name| (<$kind as PluginConfig>::KIND, name.as_str())),
                    );
                )+
                names
            }
        }
    };
}

plugin_kinds! {
    email: herald_plugin_email::EmailConfig,
    webhook: herald_plugin_webhook::WebhookConfig,
    exec: herald_plugin_exec::ExecConfig,
    sms: herald_plugin_sms::SmsConfig,
    push: herald_plugin_push::PushConfig,
    orders: herald_plugin_orders::OrdersConfig,
    inventory: herald_plugin_inventory::InventoryConfig,
    subscriptions: herald_plugin_subscriptions::SubscriptionsConfig,
}

/// `a == b`, usable in a `const` assertion.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl fmt::Debug for PluginsConfig {
    // Instance tables may hold secrets; name the instances only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl PluginsConfig {
    /// The inventory instances with `line_items_from_stripe`, which need Stripe's API.
    pub(crate) fn wanting_line_items(&self) -> Vec<String> {
        self.inventory
            .iter()
            .filter(|(_, config)| config.line_items_from_stripe)
            .map(|(name, _)| name.clone())
            .collect()
    }
}
