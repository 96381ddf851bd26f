//! Jobs as herald's dispatcher hands them to a plugin.

use herald_plugin_api::{Context, Event, Job, Outcome, Plugin};
use serde_json::{Map, Value};

/// Which attempt of which job: what a [`Job`] carries besides the event and params.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// The rule that planned the job.
    pub rule: &'a str,
    /// The job's idempotency key, `{source}:{event id}:{rule}:{action index}`.
    pub key: &'a str,
    /// 1 for the first attempt, 2 for the first retry, …
    pub number: u32,
}

impl<'a> Attempt<'a> {
    /// The first attempt of rule `rule`'s job keyed `key`.
    pub fn first(rule: &'a str, key: &'a str) -> Self {
        Self {
            rule,
            key,
            number: 1,
        }
    }

    /// This job's attempt `number`.
    pub fn number(self, number: u32) -> Self {
        Self { number, ..self }
    }
}

/// The [`Job`] of `attempt` for `event`, rendering against `context`.
pub fn job<'a>(
    event: &'a Event,
    params: &'a Map<String, Value>,
    context: &'a Context<'a>,
    attempt: Attempt<'a>,
) -> Job<'a> {
    Job {
        event,
        params,
        context,
        idempotency_key: attempt.key,
        attempt: attempt.number,
        rule: attempt.rule,
        raised: &herald_plugin_api::DISCARDED,
    }
}

/// Delivers `attempt` of a job for `event` to `plugin`, its templates rendering against
/// the event's own context (no `shop` values).
pub async fn deliver(
    plugin: &dyn Plugin,
    event: &Event,
    params: &Map<String, Value>,
    attempt: Attempt<'_>,
) -> Outcome {
    deliver_in_context(plugin, event, params, event.context(), attempt).await
}

/// [`deliver`] with templates rendering against `context` instead.
pub async fn deliver_in_context(
    plugin: &dyn Plugin,
    event: &Event,
    params: &Map<String, Value>,
    context: Value,
    attempt: Attempt<'_>,
) -> Outcome {
    let context = Context::of_value(context);
    plugin.deliver(&job(event, params, &context, attempt)).await
}
