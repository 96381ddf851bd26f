//! [`Rules::trace`]: how each rule answers one event, for `herald route`'s dry run.
//! It matches exactly as [`Rules::matching`] does, recording why.

use herald_plugin_api::Event;

use super::condition::Comparison;
use super::scope::EventScope;
use super::{Rule, Rules};

/// One rule's answer to one event.
#[derive(Debug, Clone)]
pub struct RuleTrace<'r> {
    /// The rule.
    pub rule: &'r Rule,
    /// The first `on` pattern the event's type matched; `None`: none did.
    pub pattern: Option<String>,
    /// The `when` comparisons, when the rule has a `when` and `on` matched.
    pub when: Vec<Comparison>,
    /// Whether the rule sets off its actions.
    pub matched: bool,
}

impl Rules {
    /// Every rule, in file order, with whether and why `event` matches it.
    pub fn trace(&self, event: &Event) -> Vec<RuleTrace<'_>> {
        let context = EventScope::new(event);
        self.iter()
            .map(|rule| {
                let pattern = rule
                    .on
                    .iter()
                    .find(|pattern| pattern.matches(&event.kind))
                    .map(|pattern| pattern.as_str().to_owned());
                let (passed, when) = match (&pattern, &rule.when) {
                    (Some(_), Some(condition)) => condition.explain(&context),
                    _ => (true, Vec::new()),
                };
                RuleTrace {
                    rule,
                    matched: pattern.is_some() && passed,
                    pattern,
                    when,
                }
            })
            .collect()
    }
}
