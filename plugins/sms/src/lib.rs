//! herald's sms plugin: sends a text message about an event through Twilio's Messages
//! API or a generic JSON gateway.
//!
//! It sits in herald's deliver stage. Start-up: herald deserializes each
//! `[plugins.sms.<name>]` table into an [`SmsConfig`], checks it with
//! [`SmsConfig::validate`], checks every rule action aimed at it with
//! [`validate_action`], and builds the instance with [`build`]. Then the dispatcher's
//! workers call [`Plugin::deliver`](herald_plugin_api::Plugin::deliver) once per job.
//!
//! # Layout
//! - [`config`]: the config table, its validation and the resolved [`ValidatedSms`].
//! - [`action`]: a rule action's parameters (`template`, `to`).
//! - [`phone`]: E.164 checking ([`normalize_e164`]).
//! - `classify`: how a response or a transport error becomes an [`Outcome`].
//! - `plugin`: [`build`] and the [`Plugin`](herald_plugin_api::Plugin) implementation.
//!
//! # Idempotency
//! Every attempt at the same job carries the job's idempotency key in `Idempotency-Key`
//! (and, for Twilio, in `I-Twilio-Idempotency-Token`; the JSON gateway also gets it as
//! `idempotency_key` in the body), so a provider that honours it sends one text only.
//!
//! [`Outcome`]: herald_plugin_api::Outcome
#![forbid(unsafe_code)]

pub mod action;
mod classify;
pub mod config;
pub mod phone;
mod plugin;

pub use action::{validate_action, SmsAction, DEFAULT_TO};
pub use config::{
    JsonSettings, ProviderSettings, SmsConfig, SmsProvider, TwilioSender, TwilioSettings,
    ValidatedSms, TWILIO_API_BASE,
};
pub use phone::{normalize_e164, PhoneError};
pub use plugin::{build, IDEMPOTENCY_HEADER, TWILIO_IDEMPOTENCY_HEADER, USER_AGENT};
