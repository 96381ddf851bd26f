//! One rule action, checked: its plugin instance, its parameters against the
//! instance's kind ([`Instance::validate_action`](herald_plugin_api::Instance::validate_action)),
//! and its `fallback` chain, each entry checked the same way as a full action.

use std::collections::BTreeMap;
use std::ops::Range;

use herald_plugin_api::{ActionContext, ActionSpec};

use super::locate::{line_of, Collector};
use crate::plugins::PluginSpec;
use crate::render::Renderer;
use crate::rules::Action;

/// What an action is checked against.
pub(super) struct Known<'a> {
    /// Every configured instance's kind, by name, valid or not.
    pub(super) kinds: &'a BTreeMap<String, &'static str>,
    /// The instances that passed their kind's validation.
    pub(super) specs: &'a [PluginSpec],
    /// The loaded templates; `None` when they failed to load (reported on its own).
    pub(super) templates: Option<&'a Renderer>,
}

/// Checks the action written as `table` (at `span`, named `key` in messages) and
/// its fallbacks; `None` when it has a problem, every problem reported.
pub(super) fn validate_action(
    key: &str,
    table: &toml::Table,
    span: Range<usize>,
    known: &Known<'_>,
    issues: &mut Collector<'_>,
) -> Option<Action> {
    let mut params = table.clone();
    let fallback = params.remove("fallback");
    let action = one_action(key, params, &span, known, issues);
    let Some(fallback) = fallback else {
        return action;
    };
    let chain = fallback_chain(key, &fallback, &span, known, issues)?;
    let action = action?;
    let mut seen = vec![action.plugin()];
    for (index, entry) in chain.iter().enumerate() {
        if seen.contains(&entry.plugin()) {
            issues.at(
                span.clone(),
                format!("{key}.fallback[{index}].plugin"),
                format!(
                    "`{}` is already in this action's chain: a fallback must be another instance",
                    entry.plugin()
                ),
            );
            return None;
        }
        seen.push(entry.plugin());
    }
    Some(action.with_fallback(chain))
}

/// The actions of a `fallback = [ … ]` list, in order.
fn fallback_chain(
    key: &str,
    fallback: &toml::Value,
    span: &Range<usize>,
    known: &Known<'_>,
    issues: &mut Collector<'_>,
) -> Option<Vec<Action>> {
    let toml::Value::Array(entries) = fallback else {
        issues.at(
            span.clone(),
            format!("{key}.fallback"),
            "must be a list of actions: fallback = [{ plugin = \"…\", … }]",
        );
        return None;
    };
    if entries.is_empty() {
        issues.at(
            span.clone(),
            format!("{key}.fallback"),
            "lists no actions: name at least one, or leave `fallback` out",
        );
        return None;
    }
    let before = issues.issues.len();
    let mut chain = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let entry_key = format!("{key}.fallback[{index}]");
        let toml::Value::Table(entry) = entry else {
            issues.at(
                span.clone(),
                entry_key,
                "must be an action: { plugin = \"…\", … }",
            );
            continue;
        };
        if entry.contains_key("fallback") {
            issues.at(
                span.clone(),
                format!("{entry_key}.fallback"),
                "a fallback has no fallback of its own: list them all, in order, in the \
                 action's `fallback`",
            );
            continue;
        }
        if let Some(action) = one_action(&entry_key, entry.clone(), span, known, issues) {
            chain.push(action);
        }
    }
    (issues.issues.len() == before).then_some(chain)
}

/// Checks one action's `plugin` and parameters (`fallback` already taken out).
fn one_action(
    key: &str,
    mut params: toml::Table,
    span: &Range<usize>,
    known: &Known<'_>,
    issues: &mut Collector<'_>,
) -> Option<Action> {
    let plugin = match params.remove("plugin") {
        Some(toml::Value::String(plugin)) => plugin,
        Some(_) => {
            issues.at(span.clone(), format!("{key}.plugin"), "must be a string");
            return None;
        }
        None => {
            issues.at(
                span.clone(),
                format!("{key}.plugin"),
                "missing: name the plugin instance that carries out this action",
            );
            return None;
        }
    };
    if !known.kinds.contains_key(plugin.as_str()) {
        let names: Vec<&str> = known.kinds.keys().map(String::as_str).collect();
        let names = if names.is_empty() {
            "none are configured".to_owned()
        } else {
            format!("configured: {}", names.join(", "))
        };
        issues.at(
            span.clone(),
            format!("{key}.plugin"),
            format!("no plugin instance named `{plugin}` ({names})"),
        );
        return None;
    }
    let Ok(serde_json::Value::Object(params)) = serde_json::to_value(&params) else {
        issues.at(span.clone(), key, "parameters must be a table");
        return None;
    };
    // An instance that failed its own validation has no spec; its issues are reported.
    let spec = known.specs.iter().find(|spec| spec.name() == plugin);
    let mut renders = ActionSpec::none();
    if let (Some(spec), Some(templates)) = (spec, known.templates) {
        let cx = ActionContext::new(key, &params, templates);
        match spec.validate_action(&cx) {
            Ok(spec) => renders = spec,
            Err(problems) => {
                for problem in problems {
                    issues.at(span.clone(), problem.key, problem.message);
                }
                return None;
            }
        }
    }
    let line = line_of(issues.text, span.start);
    Some(Action::new(plugin, params).with_spec(renders, Some(line)))
}
