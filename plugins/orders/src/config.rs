//! One orders plugin instance's configuration: a `[plugins.orders.<name>]` table.
//!
//! Checked at start-up, before the deliver stage runs: herald deserializes an
//! [`OrdersConfig`], checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) and hands the
//! resulting [`ValidatedOrders`] to
//! [`Instance::build`](herald_plugin_api::Instance::build).

use herald_plugin_api::{Issues, PluginConfig, ValidateContext};
pub use herald_plugin_http::callback::{Callback, CallbackConfig, DEFAULT_CALLBACK_TIMEOUT_SECS};
use serde::Deserialize;

/// Jobs of one instance at once when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// The raw `[plugins.orders.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersConfig {
    /// Most jobs at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
    /// Tell the storefront each order's status after every change, by a signed POST.
    pub callback: Option<CallbackConfig>,
}

/// A checked configuration, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedOrders {
    /// Most jobs at once.
    pub max_concurrency: usize,
    /// The storefront callback, if configured.
    pub callback: Option<Callback>,
}

impl PluginConfig for OrdersConfig {
    const KIND: &'static str = "orders";
    type Instance = ValidatedOrders;

    /// Checks the table.
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedOrders, Issues> {
        let mut issues = cx.issues();
        if self.max_concurrency == Some(0) {
            issues.push("max_concurrency", "must be at least 1");
        }
        let callback = match &self.callback {
            None => Some(None),
            Some(callback) => callback
                .validate(cx.env, &mut issues, "https://shop.example.com/hooks/orders")
                .map(Some),
        };
        issues.finish(|| {
            Some(ValidatedOrders {
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
                callback: callback?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use herald_testkit::validate_table;
    use serde_json::json;

    use super::*;

    const KEY: &str = "plugins.orders.shop";

    #[test]
    fn an_empty_table_takes_defaults() {
        assert_eq!(
            validate_table::<OrdersConfig>(KEY, json!({})),
            Ok(ValidatedOrders {
                max_concurrency: DEFAULT_MAX_CONCURRENCY,
                callback: None,
            })
        );
    }

    #[test]
    fn values_pass_through() {
        let config = validate_table::<OrdersConfig>(KEY, json!({ "max_concurrency": 2 })).unwrap();
        assert_eq!(config.max_concurrency, 2);
    }

    #[test]
    fn zero_concurrency_is_an_issue_at_its_key() {
        assert_eq!(
            validate_table::<OrdersConfig>(KEY, json!({ "max_concurrency": 0 })),
            Err(vec![format!("{KEY}.max_concurrency")])
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = serde_json::from_value::<OrdersConfig>(json!({ "ledger": "x" })).unwrap_err();
        assert!(err.to_string().contains("ledger"), "{err}");
    }
}
