//! Route stage: which actions an event sets off.
//!
//! A [`Rule`] matches event types by exact name or `*` glob, optionally filters on
//! a condition over the event's fields, and lists actions for plugin instances.
//! [`Rules::plan`] turns one event into the jobs the store inserts together with it.

pub mod condition;
mod followup;
pub mod glob;
mod order_view;
mod scope;
mod trace;

use herald_plugin_api::{ActionSpec, Event, RetryConfig};
use serde_json::{Map, Value};

pub use self::condition::{Comparison, Condition, ConditionError, ORDER_PATHS};
pub use self::followup::{FollowUp, MatchOn, Wait};
pub use self::glob::{EventPattern, PatternError};
pub use self::order_view::OrderView;
use self::scope::EventScope;
pub use self::trace::RuleTrace;

/// One validated `[[rules]]` entry.
#[derive(Debug, Clone)]
pub struct Rule {
    name: String,
    on: Vec<EventPattern>,
    when: Option<Condition>,
    actions: Vec<Action>,
    retry: RetryConfig,
    /// Paths whose values, not the event, make a job one: `once_per`.
    once_per: Vec<Vec<String>>,
    /// Set for a `[[followups]]` entry: its jobs wait for a deadline and an absence.
    followup: Option<FollowUp>,
}

/// One action of a rule: the plugin instance and its parameters.
#[derive(Debug, Clone)]
pub struct Action {
    plugin: String,
    params: Map<String, Value>,
    /// What the action renders, as its plugin said when checking it.
    spec: ActionSpec,
    /// The action's line in the config file, when known.
    line: Option<usize>,
    /// What takes the job, in order, when this action's instance gives up on it.
    fallback: Vec<Action>,
}

impl Action {
    /// An action for the plugin instance `plugin`.
    pub fn new(plugin: String, params: Map<String, Value>) -> Self {
        Self {
            plugin,
            params,
            spec: ActionSpec::none(),
            line: None,
            fallback: Vec::new(),
        }
    }

    /// The action with a fallback chain: the actions that take its job, in order,
    /// when one before gives up on it.
    #[must_use]
    pub fn with_fallback(self, fallback: Vec<Action>) -> Self {
        Self { fallback, ..self }
    }

    /// Its fallback chain, in order; empty when it has none.
    pub fn fallback(&self) -> &[Action] {
        &self.fallback
    }

    /// The action with what it renders and where it is written in the config file.
    #[must_use]
    pub fn with_spec(self, spec: ActionSpec, line: Option<usize>) -> Self {
        Self { spec, line, ..self }
    }

    /// The plugin instance that carries it out.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// Its parameters, `plugin` excluded: what templates see as `params`.
    pub fn params(&self) -> &Map<String, Value> {
        &self.params
    }

    /// The templates it renders on each delivery.
    pub fn spec(&self) -> &ActionSpec {
        &self.spec
    }

    /// Its line in the config file.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
}

impl Rule {
    /// A rule from parts that validation has already checked.
    pub fn new(
        name: String,
        on: Vec<EventPattern>,
        when: Option<Condition>,
        actions: Vec<Action>,
    ) -> Self {
        Self {
            name,
            on,
            when,
            actions,
            retry: RetryConfig::default(),
            once_per: Vec::new(),
            followup: None,
        }
    }

    /// The rule as a follow-up: its `on` is the follow-up's `after`.
    #[must_use]
    pub fn with_followup(mut self, followup: FollowUp) -> Self {
        self.followup = Some(followup);
        self
    }

    /// What makes it a follow-up, when it is one.
    pub fn followup(&self) -> Option<&FollowUp> {
        self.followup.as_ref()
    }

    /// The rule sending once per distinct value of `paths` (dotted, split) instead of
    /// once per event: `once_per = ["data.object.id", "data.object.attempt_count"]`
    /// mails once per invoice attempt however many events Stripe sends for it.
    pub fn with_once_per(mut self, paths: Vec<Vec<String>>) -> Self {
        self.once_per = paths;
        self
    }

    /// The idempotency key of its action `index` for `event`: `{source}:{event
    /// id}:{rule}:{index}`, or with `once_per`, `{source}:once:{values…}:{rule}:{index}`,
    /// which a second event with the same values shares, so its job is not queued.
    pub fn idempotency_key(&self, event: &Event, index: usize) -> String {
        if let Some(key) = self.followup.as_ref().and_then(|f| f.match_on.key(event)) {
            return format!("{}:followup:{key}:{}:{index}", event.source, self.name);
        }
        if self.once_per.is_empty() {
            return idempotency_key(event, &self.name, index);
        }
        use self::condition::Scope as _;
        let scope = EventScope::new(event);
        let values: Vec<String> = self
            .once_per
            .iter()
            .map(|path| match scope.lookup(path) {
                Some(Value::String(text)) => text.clone(),
                Some(value) => value.to_string(),
                None => "null".to_owned(),
            })
            .collect();
        format!(
            "{}:once:{}:{}:{}",
            event.source,
            values.join(":"),
            self.name,
            index
        )
    }

    /// The rule with retry overrides for its jobs.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The rule's name, part of every idempotency key it produces.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event types the rule is `on`.
    pub fn on(&self) -> &[EventPattern] {
        &self.on
    }

    /// The rule's `when`, if it has one.
    pub fn when(&self) -> Option<&Condition> {
        self.when.as_ref()
    }

    /// The rule's actions, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    fn matches(&self, event: &Event, context: &EventScope<'_>) -> bool {
        self.on.iter().any(|pattern| pattern.matches(&event.kind))
            && self
                .when
                .as_ref()
                .is_none_or(|condition| condition.evaluate(context))
    }
}

/// A job the router asks the store to create.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedJob {
    pub rule: String,
    pub action_index: usize,
    pub plugin: String,
    pub params: Map<String, Value>,
    /// `{source}:{event id}:{rule}:{action index}`: the same for every retry and
    /// every replica, so downstreams can drop duplicates.
    pub idempotency_key: String,
    /// When it is first due (ms since the epoch), for a follow-up; `None`: at once.
    pub run_at: Option<i64>,
}

/// The rule set, in file order.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
    /// The `[[digests]]`' schedules; each one's delivery is among `rules`.
    digests: Vec<crate::digest::Digest>,
}

impl Rules {
    /// Wraps validated rules.
    pub fn new(rules: Vec<Rule>) -> Self {
        Self {
            rules,
            digests: Vec::new(),
        }
    }

    /// The rules with the digests they deliver.
    #[must_use]
    pub fn with_digests(self, digests: Vec<crate::digest::Digest>) -> Self {
        Self { digests, ..self }
    }

    /// The digests, in config order.
    pub fn digests(&self) -> &[crate::digest::Digest] {
        &self.digests
    }

    /// The retry overrides of the rule named `name` (none when it no longer exists).
    pub fn retry_for(&self, name: &str) -> RetryConfig {
        self.rules
            .iter()
            .find(|rule| rule.name == name)
            .map(|rule| rule.retry)
            .unwrap_or_default()
    }

    /// The event types the rules name exactly (patterns without `*`), each once:
    /// the types whose webhook series exist from the start.
    pub fn event_types(&self) -> impl Iterator<Item = &str> {
        let mut types: Vec<&str> = self
            .rules
            .iter()
            .flat_map(|rule| rule.on.iter().map(EventPattern::as_str))
            .filter(|pattern| !pattern.contains('*'))
            .collect();
        types.sort_unstable();
        types.dedup();
        types.into_iter()
    }

    /// The rules in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    /// The rules `event` matches (its type by `on`, then `when`), in file order.
    pub fn matching<'r>(&'r self, event: &Event) -> Vec<&'r Rule> {
        let context = EventScope::new(event);
        self.rules
            .iter()
            .filter(|rule| rule.matches(event, &context))
            .collect()
    }

    /// The names of the follow-ups among the rules.
    pub fn followup_names(&self) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|rule| rule.followup.is_some())
            .map(|rule| rule.name.as_str())
            .collect()
    }

    /// The keys `event` is marked under for the follow-ups whose `unless` names its
    /// type (stored with it, read at their deadlines), each once.
    pub fn unless_keys(&self, event: &Event) -> Vec<String> {
        let mut keys: Vec<String> = self
            .rules
            .iter()
            .filter_map(|rule| rule.followup.as_ref())
            .filter(|followup| {
                followup
                    .unless
                    .iter()
                    .any(|pattern| pattern.matches(&event.kind))
            })
            .filter_map(|followup| followup.match_on.key(event))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Every job `event` sets off: one per action of every matching rule.
    ///
    /// Conditions on `data.…` or `raw.…` read `event.raw`, which builds its tree
    /// only if one asks.
    pub fn plan(&self, event: &Event) -> Vec<PlannedJob> {
        let context = EventScope::new(event);
        self.rules
            .iter()
            .filter(|rule| rule.matches(event, &context))
            // A follow-up needs its key and its deadline; without either it plans nothing.
            .filter_map(|rule| match &rule.followup {
                None => Some((rule, None)),
                Some(followup) => {
                    followup.match_on.key(event)?;
                    Some((rule, Some(followup.due_ms(event)?)))
                }
            })
            .flat_map(|(rule, run_at)| {
                rule.actions
                    .iter()
                    .enumerate()
                    .map(move |(index, action)| PlannedJob {
                        rule: rule.name.clone(),
                        action_index: index,
                        plugin: action.plugin.clone(),
                        params: action.params.clone(),
                        idempotency_key: rule.idempotency_key(event, index),
                        run_at,
                    })
            })
            .collect()
    }
}

/// `{source}:{event id}:{rule}:{action index}`: the key of a job [`Rules::plan`] makes.
pub fn idempotency_key(event: &Event, rule: &str, index: usize) -> String {
    format!("{}:{}:{}:{}", event.source, event.id, rule, index)
}
