//! The plugin trait and what crosses it on each delivery.

use std::borrow::Cow;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::context::Context;
use crate::event::Event;

/// One action to carry out for one event.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The event that triggered the action.
    pub event: &'a Event,
    /// The action's parameters from the rule in `config.toml` (everything but `plugin`).
    pub params: &'a Map<String, Value>,
    /// The document templates render against, built when first read: the event's
    /// context plus `shop` values and `params`.
    pub context: &'a Context<'a>,
    /// `{source}:{event id}:{rule}:{action index}`: stable across retries, so a
    /// plugin sends it downstream and a redelivery never doubles an effect.
    pub idempotency_key: &'a str,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// The rule that planned this job.
    pub rule: &'a str,
    /// Where the delivery raises events of herald's own (see [`crate::raised`]).
    pub raised: &'a crate::Raised,
}

/// What a delivery attempt came to. Plugins classify; the dispatcher owns backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The downstream accepted the action.
    Delivered,
    /// A temporary failure (timeout, refused connection, 5xx, 429, SMTP 4xx): try again.
    Retry {
        /// The downstream's own hint (e.g. `Retry-After`), if it gave one.
        after: Option<Duration>,
        /// Why, for the attempt record.
        reason: Cow<'static, str>,
    },
    /// A failure that retrying cannot fix (4xx, SMTP 5xx, a bad address).
    Failed {
        /// Why, for the attempt record.
        reason: Cow<'static, str>,
    },
    /// Herald's own side is wrong, not the job: a template that does not render for
    /// it. Retrying cannot fix it and the destination was never asked, but a fixed
    /// template can: the job waits, with no attempt counted, until a reload.
    Held {
        /// Why, for the attempt record.
        reason: Cow<'static, str>,
    },
    /// Nothing to do: the event says nothing this instance acts on (an orders
    /// instance sent `charge.updated`, say). The job is done, recorded as skipped
    /// with the reason, and counted; it is not a dead letter.
    Skipped {
        /// Why, for the attempt record.
        reason: Cow<'static, str>,
    },
}

impl Outcome {
    /// A temporary failure without a downstream hint.
    pub fn retry(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Retry {
            after: None,
            reason: reason.into(),
        }
    }

    /// A permanent failure.
    pub fn failed(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Failed {
            reason: reason.into(),
        }
    }

    /// A job with nothing to do (see [`Outcome::Skipped`]).
    pub fn skipped(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Skipped {
            reason: reason.into(),
        }
    }

    /// A job held until the templates or config are fixed (see [`Outcome::Held`]).
    pub fn held(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Held {
            reason: reason.into(),
        }
    }
}

/// A plugin instance failed outside a delivery (e.g. its healthcheck).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PluginError(pub String);

/// A configured plugin instance, built once at start-up and shared by the workers.
#[async_trait]
pub trait Plugin: Send + Sync {
    /// The instance name from `config.toml` (`[plugins.email.<name>]`).
    fn name(&self) -> &str;

    /// Carries out one job. Must not panic; every failure becomes an [`Outcome`].
    async fn deliver(&self, job: &Job<'_>) -> Outcome;

    /// Checks that the destination is reachable; run by `herald check --connect`.
    async fn healthcheck(&self) -> Result<(), PluginError> {
        Ok(())
    }

    /// Whether a checkout session that names no line items in its metadata should
    /// have them fetched from the provider's API before it is delivered here (as
    /// `data.object.line_items`, the shape Stripe's `expand` gives). Default: no.
    fn wants_line_items(&self) -> bool {
        false
    }
}
