//! herald's sms plugin: sends a text message about an event through Twilio's Messages
//! API. A generic JSON gateway is the webhook plugin's job: a `webhook` action with a
//! `body` template (`provider = "json"` is refused, naming that replacement).
//!
//! It sits in herald's deliver stage. At start-up herald deserializes each
//! `[plugins.sms.<name>]` table into an [`SmsConfig`] (the kind's
//! [`PluginConfig`](herald_plugin_api::PluginConfig)), checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) (pure apart from
//! `${VAR}` lookups), checks every rule action aimed at it with
//! [`Instance::validate_action`](herald_plugin_api::Instance::validate_action) (the text
//! template and the `to` template), and builds the instance with
//! [`Instance::build`](herald_plugin_api::Instance::build), which takes its HTTP client and
//! templates from the [`BuildContext`](herald_plugin_api::BuildContext). Then the
//! dispatcher's workers call [`Plugin::deliver`](herald_plugin_api::Plugin::deliver) once
//! per job.
//!
//! # Layout
//! - [`config`]: the config table, its validation and the resolved [`ValidatedSms`].
//! - [`auth`]: an API key or the Auth Token ([`TwilioAuth`]).
//! - [`action`]: a rule action's parameters (`template`, `to`).
//! - [`phone`]: E.164 checking ([`normalize_e164`]).
//! - `classify`: Twilio's wording of a failed answer; the status rules and sending
//!   are shared with the push plugin in `herald_plugin_http::provider`.
//! - [`kind`]: [`ValidatedSms`] as an [`Instance`](herald_plugin_api::Instance).
//! - `plugin`: the start-up set-up and the [`Plugin`](herald_plugin_api::Plugin) implementation.
//!
//! # Idempotency
//! Every attempt at the same job carries the job's idempotency key in `Idempotency-Key`
//! and in Twilio's `I-Twilio-Idempotency-Token`, so Twilio sends one text only.
#![forbid(unsafe_code)]

pub mod action;
pub mod auth;
mod classify;
pub mod config;
pub mod kind;
pub mod phone;
mod plugin;
mod preview;
pub mod segments;

pub use action::{validate_action, SmsAction, DEFAULT_TO};
pub use auth::TwilioAuth;
pub use config::{
    ProviderSettings, SmsConfig, SmsProvider, TwilioSender, TwilioSettings, ValidatedSms,
    TWILIO_API_BASE,
};
pub use phone::{normalize_e164, PhoneError};
pub use plugin::{IDEMPOTENCY_HEADER, TWILIO_IDEMPOTENCY_HEADER, USER_AGENT};
