//! One inventory plugin instance's configuration: a `[plugins.inventory.<name>]` table.
//!
//! Checked at start-up, before the deliver stage runs: herald deserializes an
//! [`InventoryConfig`], checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) and hands the
//! resulting [`ValidatedInventory`] to
//! [`Instance::build`](herald_plugin_api::Instance::build).

use herald_plugin_api::{Issues, PluginConfig, ValidateContext};
use serde::Deserialize;

/// Jobs of one instance at once when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// The raw `[plugins.inventory.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryConfig {
    /// Whether a partial refund puts the order's items back in stock. Default false:
    /// a partial refund is usually a goodwill discount, not a return.
    #[serde(default)]
    pub restock_partial_refunds: bool,
    /// A level at or below which a SKU is low: a move that takes a level there
    /// raises `herald.stock_low`. Unset: only a level going below zero raises it.
    pub low_stock_at: Option<i64>,
    /// Most jobs at once (herald's dispatcher enforces it). Default 8.
    pub max_concurrency: Option<usize>,
    /// Whether herald fetches a checkout session's line items from Stripe's API when
    /// its metadata names none (needs `[sources.stripe] api_key`). Default false.
    #[serde(default)]
    pub line_items_from_stripe: bool,
}

/// A checked configuration, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedInventory {
    /// Whether a partial refund restocks the order's items.
    pub restock_partial_refunds: bool,
    /// The level at or below which a SKU is low, if any.
    pub low_stock_at: Option<i64>,
    /// Most jobs at once.
    pub max_concurrency: usize,
    /// Whether a checkout session's line items are fetched from Stripe's API.
    pub line_items_from_stripe: bool,
}

impl PluginConfig for InventoryConfig {
    const KIND: &'static str = "inventory";
    type Instance = ValidatedInventory;

    /// Checks the table.
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedInventory, Issues> {
        let mut issues = cx.issues();
        if self.max_concurrency == Some(0) {
            issues.push("max_concurrency", "must be at least 1");
        }
        issues.finish(|| {
            Some(ValidatedInventory {
                restock_partial_refunds: self.restock_partial_refunds,
                low_stock_at: self.low_stock_at,
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
                line_items_from_stripe: self.line_items_from_stripe,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use herald_testkit::validate_table;
    use serde_json::json;

    use super::*;

    const KEY: &str = "plugins.inventory.shop";

    #[test]
    fn an_empty_table_takes_defaults() {
        assert_eq!(
            validate_table::<InventoryConfig>(KEY, json!({})),
            Ok(ValidatedInventory {
                restock_partial_refunds: false,
                low_stock_at: None,
                max_concurrency: DEFAULT_MAX_CONCURRENCY,
                line_items_from_stripe: false,
            })
        );
    }

    #[test]
    fn values_pass_through() {
        let table =
            json!({ "restock_partial_refunds": true, "max_concurrency": 2, "low_stock_at": 3 });
        let config = validate_table::<InventoryConfig>(KEY, table).unwrap();
        assert!(config.restock_partial_refunds);
        assert_eq!(config.low_stock_at, Some(3));
        assert_eq!(config.max_concurrency, 2);
    }

    #[test]
    fn zero_concurrency_is_an_issue_at_its_key() {
        assert_eq!(
            validate_table::<InventoryConfig>(KEY, json!({ "max_concurrency": 0 })),
            Err(vec![format!("{KEY}.max_concurrency")])
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err =
            serde_json::from_value::<InventoryConfig>(json!({ "restock": true })).unwrap_err();
        assert!(err.to_string().contains("restock"), "{err}");
    }
}
