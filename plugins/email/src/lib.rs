//! herald's email plugin: renders a template set and sends it through SMTP or writes it
//! to an outbox folder.
//!
//! It sits in herald's deliver stage. At start-up herald deserializes each
//! `[plugins.email.<name>]` table into an [`EmailConfig`] (the kind's
//! [`PluginConfig`](herald_plugin_api::PluginConfig)), checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) (pure; the outbox
//! is taken from the config file's folder), checks every rule action aimed at it with
//! [`Instance::validate_action`](herald_plugin_api::Instance::validate_action) (the
//! template set and the address templates), and builds the instance with
//! [`Instance::build`](herald_plugin_api::Instance::build) from the
//! [`BuildContext`](herald_plugin_api::BuildContext)'s templates. Then the dispatcher's
//! workers call [`Plugin::deliver`](herald_plugin_api::Plugin::deliver) once per job.
//!
//! # Layout
//! - [`config`]: the config table, its validation and the resolved [`ValidatedEmail`].
//! - [`action`]: a rule action's parameters (`template`, `to`, `reply_to`, `attachments`).
//! - `attachments`: the files an event carries for its mail, as MIME parts.
//! - [`message`]: rendering a job into a lettre message with a stable Message-ID.
//! - [`header_limits`]: keeping every header line within RFC 5322's 998 characters.
//! - `outbox`: the file transport (`<outbox>/<token>.eml`, written atomically).
//! - `smtp`: the pooled SMTP transport and how its errors become outcomes.
//! - [`kind`]: [`ValidatedEmail`] as an [`Instance`](herald_plugin_api::Instance).
//! - `plugin`: the start-up I/O and the [`Plugin`](herald_plugin_api::Plugin) implementation.
//!
//! # Idempotency
//! Every attempt at the same job yields the same Message-ID
//! (`<{token}@{from domain}>`), the same outbox file name (`{token}.eml`) and carries
//! the key in `X-Herald-Idempotency-Key` (a key over 256 bytes as a prefix and its
//! hash, see [`header_limits`]); `token` is [`message_token`] of the job's idempotency
//! key.
#![forbid(unsafe_code)]

pub mod action;
mod attachments;
pub mod config;
pub mod header_limits;
pub mod kind;
pub mod message;
mod outbox;
mod plugin;
mod preview;
mod smtp;

pub use action::{validate_action, EmailAction};
pub use config::{
    EmailConfig, Security, SmtpCredentials, SmtpSettings, TransportKind, TransportSettings,
    ValidatedEmail,
};
pub use message::{message_token, ComposeError, IDEMPOTENCY_HEADER};
