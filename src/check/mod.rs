//! The rendering check: every template a rule uses, rendered against every sample
//! event the rule matches, with the very context delivery builds, so a field that is
//! not in the data (`{{customer.nmae}}`, a `[shop]` key never set) is found before
//! the first mail turns into a dead letter.
//!
//! What an action renders is what its plugin said when the config was checked
//! ([`ActionSpec`](herald_plugin_api::ActionSpec)): an email's template set and its
//! `to`, an SMS's text, a push's title and body, a webhook's path and body, an exec's
//! arguments. Parts a set lacks are skipped, as delivery skips them.

mod events;
mod fields;

use std::collections::BTreeSet;
use std::fmt;

use herald_plugin_api::{Context, Event, RenderError, Templates as _};
use serde_json::{Map, Value};

pub use self::events::{builtin, load_dir, SampleEvent};
pub use self::fields::FieldProblem;
use crate::render::{Renderer, Source};
use crate::rules::{Action, Rule, Rules};
use crate::Config;

/// One thing that would fail at delivery: where, in which rule's action, with which samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The template's file, line and column, and what is wrong.
    pub message: String,
    /// The rule whose action renders it.
    pub rule: String,
    /// The action's index in the rule.
    pub action: usize,
    /// The action's plugin instance.
    pub plugin: String,
    /// The sample events that show it, in the order checked.
    pub samples: Vec<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n    in rule `{}`, action {} ({}), with sample{} {}",
            self.message,
            self.rule,
            self.action,
            self.plugin,
            if self.samples.len() == 1 { "" } else { "s" },
            self.samples.join(", ")
        )
    }
}

/// What the check did and found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Problems, in the order found, one per distinct message of each action.
    pub problems: Vec<Problem>,
    /// Templates rendered (one part or inline template against one sample counts one).
    pub renders: usize,
    /// Sample events checked.
    pub samples: usize,
    /// Of those, the ones some rule with templates matched.
    pub matched: usize,
    /// Rules that render something but matched no sample, so nothing of theirs was checked.
    pub unchecked: Vec<String>,
    /// `when` paths the samples of the rule's types lack: likely misspelt.
    pub fields: Vec<FieldProblem>,
}

impl Report {
    /// One line for `herald check`'s summary.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "templates: {} renders, against the {} of {} sample events that rules with templates match",
            self.renders, self.matched, self.samples
        );
        if !self.unchecked.is_empty() {
            line.push_str(&format!(
                "\nnot rendered (no sample event matches): {}",
                self.unchecked.join(", ")
            ));
        }
        line
    }
}

/// Renders every template of every rule against each of `samples` it matches.
pub fn check(config: &Config, samples: &[SampleEvent]) -> Report {
    let mut report = Report {
        samples: samples.len(),
        ..Report::default()
    };
    let mut matched = BTreeSet::new();
    for sample in samples {
        let before = report.renders;
        for rule in config.reloadable.rules.matching(&sample.event) {
            matched.insert(rule.name().to_owned());
            for (index, action) in rule.actions().iter().enumerate() {
                // A fallback renders when it takes the job: checked like its action.
                for step in std::iter::once(action).chain(action.fallback()) {
                    let found = render_action(config, step, &sample.event, &mut report.renders);
                    for message in found {
                        record(
                            &mut report.problems,
                            rule.name(),
                            index,
                            step,
                            message,
                            sample,
                        );
                    }
                }
            }
        }
        report.matched += usize::from(report.renders > before);
    }
    report.unchecked = unchecked(&config.reloadable.rules, &matched);
    report.fields = fields::unknown_fields(&config.reloadable.rules, samples);
    report
}

/// Every problem rendering `action`'s templates for `event`; `renders` counts them.
pub fn render_action(
    config: &Config,
    action: &Action,
    event: &Event,
    renders: &mut usize,
) -> Vec<String> {
    let context = Context::new(event, &config.reloadable.shop, action.params());
    let document = context.get();
    let templates: &Renderer = &config.reloadable.templates;
    let spec = action.spec();
    let mut problems = Vec::new();
    for set in &spec.template_sets {
        for part in &set.parts {
            if !templates.has(&set.name, *part) {
                continue;
            }
            *renders += 1;
            let found = templates.problems(Source::Set(&set.name, *part), document);
            problems.extend(found.into_iter().map(|RenderError(message)| message));
        }
    }
    for (param, template) in &spec.inline {
        *renders += 1;
        let found = templates.problems(Source::Inline(template), document);
        problems.extend(
            found
                .into_iter()
                .map(|RenderError(message)| inline_message(config, action, param, &message)),
        );
    }
    problems
}

/// An inline template's problem placed at its action's line in the config file.
pub fn inline_message(config: &Config, action: &Action, param: &str, message: &str) -> String {
    let file = config.path.display();
    let at = match action.line() {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    };
    format!("{at}: `{param}` ({}): {message}", action.plugin())
}

fn record(
    problems: &mut Vec<Problem>,
    rule: &str,
    index: usize,
    action: &Action,
    message: String,
    sample: &SampleEvent,
) {
    let same = problems
        .iter_mut()
        .find(|p| p.rule == rule && p.action == index && p.message == message);
    match same {
        Some(problem) => {
            if !problem.samples.contains(&sample.name) {
                problem.samples.push(sample.name.clone());
            }
        }
        None => problems.push(Problem {
            message,
            rule: rule.to_owned(),
            action: index,
            plugin: action.plugin().to_owned(),
            samples: vec![sample.name.clone()],
        }),
    }
}

/// Rules with something to render that no sample reached.
fn unchecked(rules: &Rules, matched: &BTreeSet<String>) -> Vec<String> {
    rules
        .iter()
        .filter(|rule| !matched.contains(rule.name()))
        .filter(|rule| {
            rule.actions().iter().any(|action| {
                let spec = action.spec();
                !spec.template_sets.is_empty() || !spec.inline.is_empty()
            })
        })
        .map(|rule| rule.name().to_owned())
        .collect()
}

/// The parameters delivery would render template set `name` with: those of the first
/// action rendering it whose rule `event` matches, else of the first action rendering
/// it at all; with the rule's name. `None`: no rule uses the set.
pub fn params_for<'c>(
    config: &'c Config,
    name: &str,
    event: &Event,
) -> Option<(&'c str, usize, &'c Map<String, Value>)> {
    let renders = |action: &Action| action.spec().template_sets.iter().any(|s| s.name == name);
    let first = |rule: &'c Rule| {
        let index = rule.actions().iter().position(renders)?;
        Some((rule.name(), index, rule.actions()[index].params()))
    };
    config
        .reloadable
        .rules
        .matching(event)
        .into_iter()
        .find_map(first)
        .or_else(|| config.reloadable.rules.iter().find_map(first))
}
