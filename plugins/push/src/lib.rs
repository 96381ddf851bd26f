//! herald's push plugin: sends a notification about an event through an ntfy server or
//! Firebase Cloud Messaging (HTTP v1 API). A generic JSON endpoint is the webhook
//! plugin's job: a `webhook` action with a `body` template (`provider = "json"` is
//! refused, naming that replacement).
//!
//! It sits in herald's deliver stage. At start-up herald deserializes each
//! `[plugins.push.<name>]` table into a [`PushConfig`] (the kind's
//! [`PluginConfig`](herald_plugin_api::PluginConfig)), checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) (pure apart from
//! `${VAR}` lookups), checks every rule action aimed at it with
//! [`Instance::validate_action`](herald_plugin_api::Instance::validate_action)
//! ([`validate_action`] plus the provider's rules, see [`ValidatedPush::validate_action`]),
//! and builds the instance with [`Instance::build`](herald_plugin_api::Instance::build),
//! which takes its HTTP client and templates from the
//! [`BuildContext`](herald_plugin_api::BuildContext). Then the dispatcher's workers call
//! [`Plugin::deliver`](herald_plugin_api::Plugin::deliver) once per job.
//!
//! # Layout
//! - [`config`]: the config table, its validation and the resolved [`ValidatedPush`].
//! - [`service_account`]: the FCM service-account key file, read and checked at start-up.
//! - `token`: FCM access tokens minted from the service account, cached and renewed.
//! - [`clock`]: the time the token cache reads, which a test can hold still.
//! - [`action`]: a rule action's parameters (`title`, `body`, `topic`, `token`, `click`).
//! - `request`: rendering a job and turning it into the ntfy or FCM request.
//! - `classify`: ntfy's and FCM's wording of a failed answer; the status rules and
//!   sending are shared with the sms plugin in `herald_plugin_http::provider`.
//! - [`kind`]: [`ValidatedPush`] as an [`Instance`](herald_plugin_api::Instance).
//! - `plugin`: the start-up set-up and the [`Plugin`](herald_plugin_api::Plugin) implementation.
//!
//! # Idempotency
//! Every attempt at the same job carries the job's idempotency key in `Idempotency-Key`;
//! FCM messages also carry it as `data.idempotency_key`, so an app can drop a duplicate.
//! Neither ntfy nor FCM deduplicates on it, so a retry after a lost answer may notify twice.
#![forbid(unsafe_code)]

pub mod action;
mod classify;
pub mod clock;
pub mod config;
pub mod kind;
mod plugin;
mod request;
pub mod service_account;
mod token;

pub use action::{validate_action, PushAction};
pub use clock::Clock;
pub use config::{
    FcmAuth, FcmSettings, NtfySettings, PushConfig, PushProvider, PushSettings, ValidatedPush,
    FCM_API_BASE, NTFY_DEFAULT_URL,
};
pub use kind::build_with_clock;
pub use plugin::{IDEMPOTENCY_HEADER, USER_AGENT};
pub use service_account::{KeyFileError, ServiceAccount};
pub use token::{FCM_SCOPE, JWT_BEARER_GRANT};
