//! herald's orders plugin: keeps each order's status in step with Stripe, whatever
//! order the events arrive in.
//!
//! Stripe delivers events late, twice, and out of order, so an event never sets a status
//! directly. It becomes a [`Fact`] (event id, `created`, a [`Signal`]) that the
//! [`OrderLedger`] records once per event id; the status is then recomputed by [`fold`]
//! from *all* the order's facts, sorted by `created` (ties by signal rank), applying each
//! signal only when [`can_move`] allows the transition. Illegal moves (a stale `pending`,
//! a `payment_failed` after `paid`) are skipped but stay recorded, so the result never
//! moves backwards and does not depend on arrival order.
//!
//! It sits in herald's deliver stage. At start-up herald deserializes each
//! `[plugins.orders.<name>]` table into an [`OrdersConfig`] (the kind's
//! [`PluginConfig`](herald_plugin_api::PluginConfig)), checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate), checks every rule
//! action aimed at it with
//! [`Instance::validate_action`](herald_plugin_api::Instance::validate_action), and builds
//! the instance with [`Instance::build`](herald_plugin_api::Instance::build), which takes
//! the order ledger (herald's database) and, for a callback, an HTTP client from the
//! [`BuildContext`](herald_plugin_api::BuildContext).
//!
//! # Layout
//! - [`status`]: [`OrderStatus`], [`can_move`] and [`fold`].
//! - [`signal`]: [`signal_for`], what a Stripe event means for its order.
//! - [`ledger`]: the storage contract herald implements.
//! - [`memory`]: [`MemoryLedger`], an in-memory ledger for tests.
//! - [`config`], [`action`]: the instance table and a rule action's `status`.
//! - [`kind`]: [`ValidatedOrders`] as an [`Instance`](herald_plugin_api::Instance).
//! - `plugin`: the start-up set-up and the [`Plugin`](herald_plugin_api::Plugin) implementation.
#![forbid(unsafe_code)]

pub mod action;
mod callback;
pub mod config;
pub mod kind;
pub mod ledger;
pub mod memory;
mod plugin;
pub mod signal;
pub mod status;

pub use action::{validate_action, OrdersAction};
pub use config::{
    Callback, CallbackConfig, OrdersConfig, ValidatedOrders, DEFAULT_CALLBACK_TIMEOUT_SECS,
    DEFAULT_MAX_CONCURRENCY,
};
pub use ledger::{Fact, Fold, LedgerError, OrderLedger, OrderState};
pub use memory::MemoryLedger;
pub use signal::{read, signal_for, Reading};
pub use status::{
    can_move, fold, history, OrderStatus, Signal, Step, UnknownSignal, UnknownStatus,
};
