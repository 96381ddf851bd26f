//! herald's push plugin: sends a notification about an event through an ntfy server or
//! Firebase Cloud Messaging (HTTP v1 API).
//!
//! It sits in herald's deliver stage. Start-up: herald deserializes each
//! `[plugins.push.<name>]` table into a [`PushConfig`], checks it with
//! [`PushConfig::validate`], checks every rule action aimed at it with
//! [`ValidatedPush::validate_action`] (or the provider-independent [`validate_action`]),
//! and builds the instance with [`build`]. Then the dispatcher's workers call
//! [`Plugin::deliver`](herald_plugin_api::Plugin::deliver) once per job.
//!
//! # Layout
//! - [`config`]: the config table, its validation and the resolved [`ValidatedPush`].
//! - [`action`]: a rule action's parameters (`title`, `body`, `topic`, `token`, `click`).
//! - `request`: rendering a job and turning it into the ntfy or FCM request.
//! - `classify`: how a response or a transport error becomes an [`Outcome`].
//! - `plugin`: [`build`] and the [`Plugin`](herald_plugin_api::Plugin) implementation.
//!
//! # Idempotency
//! Every attempt at the same job carries the job's idempotency key in `Idempotency-Key`;
//! FCM messages also carry it as `data.idempotency_key`, so an app can drop a duplicate.
//! Neither ntfy nor FCM deduplicates on it, so a retry after a lost answer may notify twice.
//!
//! [`Outcome`]: herald_plugin_api::Outcome
#![forbid(unsafe_code)]

pub mod action;
mod classify;
pub mod config;
mod plugin;
mod request;

pub use action::{validate_action, PushAction};
pub use config::{
    FcmSettings, JsonSettings, NtfySettings, PushConfig, PushProvider, PushSettings, ValidatedPush,
    FCM_API_BASE, NTFY_DEFAULT_URL,
};
pub use plugin::{build, IDEMPOTENCY_HEADER, USER_AGENT};
