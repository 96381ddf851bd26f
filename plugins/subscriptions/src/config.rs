//! One subscriptions plugin instance's configuration: a
//! `[plugins.subscriptions.<name>]` table.

use std::collections::BTreeMap;

use herald_plugin_api::{Issues, PluginConfig, ValidateContext};
pub use herald_plugin_http::callback::{Callback, CallbackConfig};
use serde::Deserialize;

use crate::access::Access;

/// Jobs of one instance at once when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// The raw `[plugins.subscriptions.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsConfig {
    /// Most jobs at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
    /// Tell the storefront whenever a subscriber's access or plan changes.
    pub callback: Option<CallbackConfig>,
    /// Access per status, over the defaults: `{ past_due = false }`.
    #[serde(default)]
    pub access: BTreeMap<String, bool>,
}

/// A checked configuration, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedSubscriptions {
    pub max_concurrency: usize,
    pub callback: Option<Callback>,
    pub access: Access,
}

impl PluginConfig for SubscriptionsConfig {
    const KIND: &'static str = "subscriptions";
    type Instance = ValidatedSubscriptions;

    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedSubscriptions, Issues> {
        let mut issues = cx.issues();
        if self.max_concurrency == Some(0) {
            issues.push("max_concurrency", "must be at least 1");
        }
        let mut overrides = BTreeMap::new();
        for (name, grants) in &self.access {
            match name.parse() {
                Ok(status) => {
                    overrides.insert(status, *grants);
                }
                Err(message) => issues.push(&format!("access.{name}"), message),
            }
        }
        let callback = match &self.callback {
            None => Some(None),
            Some(callback) => callback
                .validate(
                    cx.env,
                    &mut issues,
                    "https://shop.example.com/hooks/subscriptions",
                )
                .map(Some),
        };
        issues.finish(|| {
            Some(ValidatedSubscriptions {
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
                callback: callback?,
                access: Access::new(overrides),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use herald_testkit::validate_table;
    use serde_json::json;

    use super::*;
    use crate::ledger::SubscriptionStatus;

    const KEY: &str = "plugins.subscriptions.members";

    #[test]
    fn access_overrides_the_defaults_and_unknown_statuses_are_named() {
        let table = json!({ "access": { "past_due": false, "paused": true } });
        let config = validate_table::<SubscriptionsConfig>(KEY, table).unwrap();
        assert!(!config.access.grants(SubscriptionStatus::PastDue));
        assert!(config.access.grants(SubscriptionStatus::Paused));
        assert!(config.access.grants(SubscriptionStatus::Active));
        assert!(!config.access.grants(SubscriptionStatus::Canceled));
        assert_eq!(
            validate_table::<SubscriptionsConfig>(KEY, json!({ "access": { "overdue": true } })),
            Err(vec![format!("{KEY}.access.overdue")])
        );
    }
}
