//! `herald route`'s dry run: which rules one event sets off and why, and what each
//! action would render, computed with the matcher, the idempotency keys and the
//! templates delivery uses. Nothing is sent, stored or written.

mod action;

use serde::Serialize;

pub use self::action::{preview_action, ActionPreview, Line};
use crate::check::SampleEvent;
use crate::rules::Comparison;
use crate::Config;

/// The whole dry run for one event.
#[derive(Debug, Clone, Serialize)]
pub struct RouteReport {
    /// Where the event came from: its file, or `sample TYPE`.
    pub input: String,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Every rule, in file order.
    pub rules: Vec<RuleReport>,
}

/// One rule's answer to the event.
#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    /// The rule's name.
    pub name: String,
    /// Whether its actions would run.
    pub matched: bool,
    /// The `on` pattern the type matched; `None`: none did, and `when` was not read.
    pub on: Option<String>,
    /// The `when` as written, if the rule has one.
    pub when: Option<String>,
    /// Each `when` comparison with the value it read.
    pub comparisons: Vec<Comparison>,
    /// What each action would do; empty unless matched.
    pub actions: Vec<ActionPreview>,
    /// For a follow-up: when it would run, and what would stop it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followup: Option<FollowUpPreview>,
    /// Whether it delivers a `[[digests]]` entry's runs.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub digest: bool,
}

/// A follow-up's wait, as `herald route` explains it.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpPreview {
    /// When its actions would run (ms since the epoch); `None`: the event lacks its
    /// deadline or key, so nothing would be planned.
    pub due_at_ms: Option<i64>,
    /// The key an `unless` event must be about.
    pub about: Option<String>,
    /// The `unless` patterns.
    pub unless: Vec<String>,
}

impl RouteReport {
    /// Traces every rule of `config` for `sample` and previews the matched actions.
    pub fn build(config: &Config, sample: &SampleEvent) -> Self {
        let event = &sample.event;
        let rules = config
            .reloadable
            .rules
            .trace(event)
            .into_iter()
            .map(|trace| {
                let name = trace.rule.name().to_owned();
                let actions = if trace.matched {
                    trace
                        .rule
                        .actions()
                        .iter()
                        .enumerate()
                        .map(|(index, action)| {
                            let key = trace.rule.idempotency_key(event, index);
                            preview_action(config, &name, (index, action), event, key)
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let followup = trace.rule.followup().map(|followup| FollowUpPreview {
                    due_at_ms: followup.due_ms(event),
                    about: followup.match_on.key(event),
                    unless: followup
                        .unless
                        .iter()
                        .map(|p| p.as_str().to_owned())
                        .collect(),
                });
                let digest = config
                    .reloadable
                    .rules
                    .digests()
                    .iter()
                    .any(|digest| digest.name == name);
                RuleReport {
                    followup,
                    digest,
                    matched: trace.matched,
                    on: trace.pattern,
                    when: trace.rule.when().map(|when| when.source().to_owned()),
                    comparisons: trace.when,
                    actions,
                    name,
                }
            })
            .collect();
        Self {
            input: sample.name.clone(),
            event_id: event.id.clone(),
            kind: event.kind.clone(),
            rules,
        }
    }

    /// The rules that matched.
    pub fn matched(&self) -> impl Iterator<Item = &RuleReport> {
        self.rules.iter().filter(|rule| rule.matched)
    }
}
