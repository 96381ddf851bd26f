//! herald's inventory plugin: adjusts stock per line item as orders are paid and
//! refunded, exactly once per job.
//!
//! Stripe webhooks carry no line items, so the storefront writes them into the
//! payment's metadata as `metadata.items = "SKU-TEE-M:2, SKU-MUG:1"` (see
//! [`parse_items`]). A delivery renders the action's `items` template, parses it, turns
//! each line into a [`StockMove`] (negative when an order is paid, positive when it is
//! refunded) and hands them to the [`StockLedger`] under the job's idempotency key, so
//! a redelivered or retried job never moves stock twice.
//!
//! It sits in herald's deliver stage. At start-up herald deserializes each
//! `[plugins.inventory.<name>]` table into an [`InventoryConfig`] (the kind's
//! [`PluginConfig`](herald_plugin_api::PluginConfig)), checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate), checks every rule
//! action aimed at it with
//! [`Instance::validate_action`](herald_plugin_api::Instance::validate_action) (its `items`
//! template), and builds the instance with
//! [`Instance::build`](herald_plugin_api::Instance::build), which takes the stock ledger
//! (herald's database) and the templates from the
//! [`BuildContext`](herald_plugin_api::BuildContext).
//!
//! # Layout
//! - [`items`]: [`parse_items`], the `metadata.items` convention.
//! - [`ledger`]: the storage contract herald implements.
//! - [`memory`]: [`MemoryLedger`], an in-memory ledger for tests.
//! - [`config`], [`action`]: the instance table and a rule action's `adjust` and `items`.
//! - [`kind`]: [`ValidatedInventory`] as an [`Instance`](herald_plugin_api::Instance).
//! - `plugin`: the start-up set-up and the [`Plugin`](herald_plugin_api::Plugin) implementation.
#![forbid(unsafe_code)]

pub mod action;
pub mod config;
pub mod items;
pub mod kind;
pub mod ledger;
pub mod low_stock;
pub mod memory;
mod plugin;

pub use action::{validate_action, Adjust, Direction, InventoryAction, DEFAULT_ITEMS};
pub use config::{InventoryConfig, ValidatedInventory, DEFAULT_MAX_CONCURRENCY};
pub use items::{parse_items, ItemsError, MAX_QUANTITY};
pub use ledger::{
    outstanding, LedgerError, Moved, OrderApplied, OrderLines, OrderStockFact, StockLedger,
    StockMove, StockOverflow,
};
pub use low_stock::STOCK_LOW;
pub use memory::MemoryLedger;
