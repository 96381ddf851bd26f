//! herald's webhook plugin: POSTs a JSON document about the event to a configured
//! destination (a shipping system, a storefront callback), signed the Standard Webhooks way.
//!
//! It sits in herald's deliver stage. At start-up herald deserializes each
//! `[plugins.webhook.<name>]` table into a [`WebhookConfig`] (the kind's
//! [`PluginConfig`](herald_plugin_api::PluginConfig)), checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) (pure apart from
//! `${VAR}` lookups), checks every rule action aimed at it with
//! [`Instance::validate_action`](herald_plugin_api::Instance::validate_action) (the path
//! and body templates), and builds the instance with
//! [`Instance::build`](herald_plugin_api::Instance::build), which takes its HTTP client and
//! templates from the [`BuildContext`](herald_plugin_api::BuildContext). Then the
//! dispatcher's workers call [`Plugin::deliver`](herald_plugin_api::Plugin::deliver) once
//! per job.
//!
//! An action with a `body` template is herald's generic JSON call: it replaced the
//! `provider = "json"` of the sms and push plugins. herald's `{{json value}}` helper
//! writes a value as JSON text, so `"text": {{json customer.name}}` stays valid JSON.
//!
//! # Layout
//! - [`config`]: the config table, its validation and the resolved [`ValidatedWebhook`].
//! - [`action`]: a rule action's parameters (`path`, `body`, `event_type`).
//! - [`signature`]: Standard Webhooks signing ([`sign`]) and checking ([`verify`]).
//! - `request`: turning a job into the destination URL and the body bytes.
//! - `default_body`: the built-in body, copied from the payload's text.
//! - `classify`: how a response or a transport error becomes an [`Outcome`].
//! - [`kind`]: [`ValidatedWebhook`] as an [`Instance`](herald_plugin_api::Instance).
//! - `plugin`: the start-up set-up and the [`Plugin`](herald_plugin_api::Plugin) implementation.
//!
//! # Idempotency
//! Every attempt at the same job carries the job's idempotency key in `Idempotency-Key`
//! and, when the instance has a secret, in `webhook-id`, so the receiver can drop
//! redeliveries. The URL and (for a given event) the body are the same on every attempt;
//! only `webhook-timestamp` and so `webhook-signature` change.
//!
//! [`Outcome`]: herald_plugin_api::Outcome
#![forbid(unsafe_code)]

pub mod action;
mod classify;
pub mod config;
mod default_body;
pub mod kind;
mod plugin;
mod preview;
mod request;

pub use action::{validate_action, WebhookAction};
pub use config::{ValidatedWebhook, WebhookConfig};
/// Standard Webhooks signing lives in `herald-plugin-http`, shared with other
/// plugins that sign their calls; re-exported here where webhook users look for it.
pub use herald_plugin_http::signature::{self, decode_secret, SecretError};
pub use herald_plugin_http::signature::{
    sign, verify, VerifyError, SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_ID_HEADER,
};
pub use plugin::{IDEMPOTENCY_HEADER, USER_AGENT};
