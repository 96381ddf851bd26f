//! herald's subscriptions plugin: each subscription's status, plan and the
//! subscriber's access, kept in step with Stripe whatever order events arrive in.
//!
//! Each `customer.subscription.*` event carries the whole subscription as it stood; it
//! becomes a [`SubscriptionFact`] the [`SubscriptionLedger`] records once per event,
//! and the state is recomputed by [`fold`] from all of them: the newest snapshot by
//! `created` decides, a deletion is final. `invoice.*` events name the latest
//! invoice; `entitlements.active_entitlement_summary.updated` the customer's features.
//! Access follows the status by the instance's [`Access`] policy, and a change of
//! access, status, plan or cancellation is POSTed to the storefront's callback.
//!
//! # Layout
//! - [`read`]: what an event tells; [`fold`]: the state from the facts; [`access`].
//! - [`ledger`]: the storage contract herald implements; [`memory`]: one for tests.
//! - [`config`], [`kind`]: the instance table and its [`Instance`](herald_plugin_api::Instance).
//! - `plugin`: the [`Plugin`](herald_plugin_api::Plugin) implementation.
#![forbid(unsafe_code)]

pub mod access;
pub mod config;
pub mod fold;
pub mod kind;
pub mod ledger;
pub mod memory;
mod plugin;
pub mod read;

pub use access::Access;
pub use config::{SubscriptionsConfig, ValidatedSubscriptions, DEFAULT_MAX_CONCURRENCY};
pub use fold::fold;
pub use ledger::{
    Entitlements, Item, Observation, Snapshot, SubscriptionFact, SubscriptionLedger,
    SubscriptionState, SubscriptionStatus,
};
pub use memory::MemoryLedger;
pub use read::{read, Reading};
