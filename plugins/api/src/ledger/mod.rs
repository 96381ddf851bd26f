//! The storage contracts herald's database implements for plugins that keep state.
//!
//! [`orders`] for the orders plugin, [`stock`] for the inventory plugin. Their
//! plugins re-export them under their own `ledger` modules.

pub mod orders;
pub mod stock;
pub mod subscriptions;
