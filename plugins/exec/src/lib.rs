//! herald's exec plugin: runs a shop's own program for an action, so a shop adds an
//! integration (an ERP call, a log line, a label printer) without recompiling herald.
//!
//! It sits in herald's deliver stage. At start-up herald deserializes each
//! `[plugins.exec.<name>]` table into an [`ExecConfig`] (the kind's
//! [`PluginConfig`](herald_plugin_api::PluginConfig)), checks it with
//! [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate) (the command is
//! taken from the config file's folder and must be executable), checks every rule action
//! aimed at it with
//! [`Instance::validate_action`](herald_plugin_api::Instance::validate_action) (its `args`
//! templates), and builds the instance with
//! [`Instance::build`](herald_plugin_api::Instance::build) from the
//! [`BuildContext`](herald_plugin_api::BuildContext)'s templates. Then the dispatcher's
//! workers call [`Plugin::deliver`](herald_plugin_api::Plugin::deliver) once per job.
//!
//! # The program's side of the contract
//! - argv: the instance's fixed `args`, then the action's rendered `args`; no shell.
//! - stdin: the event's JSON context (normalized fields, `data`, `raw`, `shop`, `params`).
//! - environment: only `PATH`, `HOME` and `LANG` from herald, the instance's `env`, and
//!   `HERALD_IDEMPOTENCY_KEY`, `HERALD_EVENT_ID`, `HERALD_EVENT_TYPE`, `HERALD_RULE`,
//!   `HERALD_ATTEMPT`.
//! - working directory: the program's own folder.
//! - exit status: 0 done, 75 (`EX_TEMPFAIL`) try again later, anything else a permanent
//!   failure. Running past `timeout_secs` kills it and retries.
//!
//! # Idempotency
//! A job may run more than once (a retry after a timeout, a crash after the program
//! finished). `HERALD_IDEMPOTENCY_KEY` is the same on every attempt; a program with side
//! effects should record it and skip keys it has seen, as `examples/log-order.sh` does.
//!
//! # Layout
//! - [`config`]: the config table, its validation and the resolved [`ValidatedExec`].
//! - [`action`]: a rule action's parameters (`args`).
//! - `output`: bounded capture of the program's stdout and stderr.
//! - [`kind`]: [`ValidatedExec`] as an [`Instance`](herald_plugin_api::Instance).
//! - `plugin`: the start-up set-up and the [`Plugin`](herald_plugin_api::Plugin) implementation.
#![forbid(unsafe_code)]

pub mod action;
pub mod config;
pub mod kind;
mod output;
mod plugin;
mod preview;

pub use action::{validate_action, ExecAction};
pub use config::{ExecConfig, ValidatedExec, DEFAULT_MAX_CONCURRENCY, DEFAULT_TIMEOUT_SECS};
pub use plugin::EXIT_TEMPFAIL;
