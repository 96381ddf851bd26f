//! `[[followups]]`: each is checked as a rule (its `after` as `on`, its `when` and
//! actions), then given what makes it a follow-up: `unless`, `unless_when`, `match`,
//! and exactly one of `within` and `deadline`.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::locate::Collector;
use super::raw::{FollowupConfig, RuleConfig};
use super::validate::validate_rule;
use crate::plugins::PluginSpec;
use crate::render::Renderer;
use crate::rules::{Condition, EventPattern, FollowUp, MatchOn, Rule, Wait};

/// The follow-up `raw` (entry `index`), as a rule; `None` when anything is wrong,
/// each problem in `issues`.
pub(super) fn validate_followup(
    index: usize,
    raw: &FollowupConfig,
    kinds: &BTreeMap<String, &'static str>,
    specs: &[PluginSpec],
    templates: Option<&Renderer>,
    issues: &mut Collector<'_>,
) -> Option<Rule> {
    let before = issues.issues.len();
    let as_rule = RuleConfig {
        name: raw.name.clone(),
        on: raw.after.clone(),
        when: raw.when.clone(),
        actions: raw.actions.clone(),
        retry: raw.retry,
        once_per: Vec::new(),
    };
    let rule = validate_rule(
        "followups",
        index,
        &as_rule,
        kinds,
        specs,
        templates,
        issues,
    );
    let label = format!("followups[{index}] ({})", raw.name.get_ref());
    let name_span = raw.name.span();

    if raw.unless.is_empty() {
        issues.at(
            name_span.clone(),
            format!("{label}.unless"),
            "lists no event types: a follow-up runs unless one of them comes first, e.g. \
             unless = [\"invoice.paid\"]",
        );
    }
    let mut unless = Vec::new();
    for (i, pattern) in raw.unless.iter().enumerate() {
        match EventPattern::from_str(pattern.get_ref()) {
            Ok(parsed) => unless.push(parsed),
            Err(err) => issues.at(
                pattern.span(),
                format!("{label}.unless[{i}]"),
                err.to_string(),
            ),
        }
    }
    let unless_when =
        raw.unless_when
            .as_ref()
            .and_then(|when| match Condition::from_str(when.get_ref()) {
                Ok(condition) => Some(condition),
                Err(err) => {
                    let message = format!("`{}`: {err}", when.get_ref());
                    issues.at(when.span(), format!("{label}.unless_when"), message);
                    None
                }
            });
    let match_on = match &raw.match_on {
        None => Some(MatchOn::Object),
        Some(text) => MatchOn::parse(text.get_ref()).or_else(|| {
            let message = format!("`{}` is not {}", text.get_ref(), MatchOn::NAMES);
            issues.at(text.span(), format!("{label}.match"), message);
            None
        }),
    };
    let wait = match (&raw.within, &raw.deadline) {
        (Some(within), None) => match crate::config::parse_span(within.get_ref()) {
            Ok(span) => Some(Wait::Within(span)),
            Err(err) => {
                issues.at(within.span(), format!("{label}.within"), err.to_string());
                None
            }
        },
        (None, Some(deadline)) => match Wait::deadline(deadline.get_ref()) {
            Ok(wait) => Some(wait),
            Err(err) => {
                issues.at(deadline.span(), format!("{label}.deadline"), err);
                None
            }
        },
        (within, deadline) => {
            let said = if within.is_some() && deadline.is_some() {
                "sets both within and deadline: keep one"
            } else {
                "says neither when: set within = \"3d\" or deadline = \"data.object.… - 3d\""
            };
            issues.at(name_span, label.clone(), said);
            None
        }
    };
    if issues.issues.len() != before {
        return None;
    }
    Some(rule?.with_followup(FollowUp {
        unless,
        unless_when,
        match_on: match_on?,
        wait: wait?,
    }))
}
