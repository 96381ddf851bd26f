//! herald: verified webhooks in, notifications and side effects out, nothing lost.
//!
//! # Layout
//! Data flows one way: receive ([`source`], [`server`]) → store → route ([`rules`])
//! → deliver ([`dispatch`], [`plugins`]).
//! - [`config`]: `config.toml` read, `${VAR}`s expanded, validated whole.
//! - [`server`]: the axum router: `/webhooks/{source}`, `/healthz`, `/readyz`, `/metrics`.
//! - [`admin`]: the admin listener's router: login, the JSON API, the [`console`].
//! - [`source`]: the webhook sources, by name (Stripe): signature verification and
//!   normalization.
//! - [`rules`]: the routing engine: event type globs and conditions → planned jobs.
//! - [`store`]: events, jobs and attempts in SQLite or PostgreSQL, one transaction per
//!   webhook; the orders and stock ledgers.
//! - [`dispatch`]: workers that claim due jobs, run plugins, retry with backoff.
//! - [`replay`]: operator actions: replay or purge dead letters, re-deliver events.
//! - [`backfill`]: one rule applied to the events already stored.
//! - [`plugins`]: the closed set of plugin kinds and the running instances.
//! - [`render`]: handlebars templates for plugins that send text.
//! - [`check`]: every template a rule uses, rendered against the sample events it matches.
//! - [`reload`]: the config and templates watched, `SIGHUP`, and the swap of rules and plugins.
//! - [`console`]: the web pages: events, dead letters, orders, the template editor.
//! - [`app`]: builds all of the above and runs it until stopped.
//! - [`clock`]: where the time is read, settable in tests.
//! - [`samples`]: a sample Stripe event of every type, for `herald trigger` and template checks.
//! - [`dry_run`]: what `herald route` shows: which rules an event matches and what each
//!   action would send, nothing sent.
//! - [`metrics`]: what `/metrics` serves, every series created at start.
//! - [`cli`]: the command line's commands beside `serve`.
//! - [`shutdown`], [`telemetry`]: stopping on signals; logs, escaped, as text or JSON.
#![forbid(unsafe_code)]

pub mod admin;
pub mod alerts;
pub mod app;
pub mod backfill;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod digest;
pub mod dispatch;
pub mod dry_run;
pub mod metrics;
pub mod plugins;
pub mod reconcile;
pub mod reload;
pub mod render;
pub mod replay;
pub mod report;
pub mod rules;
pub mod samples;
pub mod server;
pub mod shutdown;
pub mod source;
pub mod store;
pub mod stripe_api;
pub mod telemetry;
pub mod thin;

pub use app::Application;
pub use config::Config;
