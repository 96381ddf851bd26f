//! The contract between herald and its plugins.
//!
//! herald receives a webhook, stores it, routes it to actions, and then hands each
//! action to a [`Plugin`] as a [`Job`]. This crate holds only the types that cross
//! that boundary, so a plugin crate depends on nothing inside the herald binary.
//!
//! # Layout
//! - [`kind`]: the [`PluginConfig`] and [`Instance`] traits every kind implements
//!   (validate, check an action, build) and the [`ValidateContext`] and
//!   [`ActionContext`] they are given.
//! - [`build`]: the [`BuildContext`] handed to [`Instance::build`]: templates,
//!   [`HttpClients`], ledgers.
//! - [`issues`]: [`Issues`], the problems one validation finds.
//! - [`action_spec`]: [`ActionSpec`], what a checked action renders.
//! - [`ledger`]: the order and stock ledgers herald's database implements.
//! - [`event`]: the normalized [`Event`] every source produces.
//! - [`params`]: reading a rule action's string parameters, every problem at once.
//! - [`payload`]: the provider's [`Payload`] in an event, parsed only when read as a tree.
//! - [`json_text`]: members read out of JSON text without a tree.
//! - [`context`]: the [`Context`] document a job's templates render against.
//! - [`plugin`]: the [`Plugin`] trait, [`Job`] and the [`Outcome`] a delivery reports.
//! - [`templates`]: the [`Templates`] renderer handed to plugins that render text.
//! - [`config`]: [`ConfigIssue`] and `${VAR}` expansion shared by plugin configs.
//! - [`retry`]: [`RetryConfig`], the `retry = { … }` table every plugin instance accepts.
#![forbid(unsafe_code)]

pub mod action_spec;
pub mod build;
pub mod config;
pub mod context;
pub mod event;
pub mod issues;
pub mod json_text;
pub mod kind;
pub mod ledger;
pub mod params;
pub mod payload;
pub mod plugin;
pub mod preview;
pub mod raised;
pub mod retry;
pub mod templates;

pub use action_spec::{ActionSpec, TemplateSet};
pub use async_trait::async_trait;
pub use build::{BuildContext, ClientSettings, HttpClients, StandardClients, USER_AGENT};
pub use config::{expand_env, ConfigIssue, Env, MissingEnvVar, ProcessEnv, RelativeTo};
pub use context::Context;
pub use event::{Customer, Event};
pub use issues::Issues;
pub use kind::{ActionContext, Instance, PluginConfig, ValidateContext};
pub use params::{or_problems, require_key, string_params};
pub use payload::Payload;
pub use plugin::{Job, Outcome, Plugin, PluginError};
pub use preview::{Preview, MASKED};
pub use raised::{Raised, RaisedEvent, DISCARDED};
pub use retry::RetryConfig;
pub use templates::{RenderError, TemplatePart, Templates};
