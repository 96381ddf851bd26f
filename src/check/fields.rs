//! The field paths a rule's `when` reads, checked against the sample events of the
//! types it listens to. A misspelt field (`customer.emial exists`) is never an error
//! at evaluation, where a missing field only makes the comparison false: the rule
//! then simply never fires. So `herald check` (and a reload) name such a path, with
//! the nearest real one.
//!
//! The normalized fields (`customer.…`, `amount`, `order_id`, …) are a fixed set, so
//! any path outside it is reported. A payload path (`data.…`, `raw.…`) is reported
//! only when one within two edits of it exists: samples lack many optional fields,
//! and `metadata` keys are the shop's own.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::SampleEvent;
use crate::rules::Rules;

/// Edits a misspelling may be away from the field meant.
const MAX_DISTANCE: usize = 2;

/// How deep a sample's payload is walked for its paths.
const MAX_DEPTH: usize = 8;

/// A `when` path that no sample event of the rule's types has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The rule.
    pub rule: String,
    /// The path as written.
    pub path: String,
    /// The nearest path the samples have.
    pub suggestion: Option<String>,
    /// The sample types it was looked for in.
    pub types: Vec<String>,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule `{}`: its `when` reads `{}`, which no {} event has, so the rule would never match on it",
            self.rule,
            self.path,
            self.types.join(" or ")
        )?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, " (did you mean `{suggestion}`?)")?;
        }
        Ok(())
    }
}

/// Every `when` path of `rules` that the samples of the rule's types lack.
pub fn unknown_fields(rules: &Rules, samples: &[SampleEvent]) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    for rule in rules.iter() {
        let Some(condition) = rule.when() else {
            continue;
        };
        let matched: Vec<&SampleEvent> = samples
            .iter()
            .filter(|sample| rule.on().iter().any(|p| p.matches(&sample.event.kind)))
            .collect();
        if matched.is_empty() {
            continue;
        }
        let known = known_paths(&matched);
        let types: BTreeSet<String> = matched.iter().map(|s| s.event.kind.clone()).collect();
        for path in condition.paths() {
            if path.starts_with("order.") || known.contains(&path) {
                continue;
            }
            let payload = path.starts_with("data.") || path.starts_with("raw.");
            if payload && path.split('.').any(|segment| segment == "metadata") {
                continue;
            }
            let suggestion = nearest(&path, &known);
            if payload && suggestion.is_none() {
                continue;
            }
            problems.push(FieldProblem {
                rule: rule.name().to_owned(),
                path,
                suggestion,
                types: types.iter().cloned().collect(),
            });
        }
    }
    problems
}

/// Every path a `when` could read in `samples`: the normalized fields, and the
/// payload under `raw.` and `data.`.
fn known_paths(samples: &[&SampleEvent]) -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    for sample in samples {
        let fields = serde_json::to_value(&sample.event).unwrap_or(Value::Null);
        walk(&fields, "", 0, &mut known);
        let payload = sample.event.raw.value();
        walk(payload, "raw", 0, &mut known);
        if let Some(data) = payload.get("data") {
            walk(data, "data", 0, &mut known);
        }
    }
    known
}

/// Adds `prefix.key` for every key under `value` (objects only), `depth` levels down.
fn walk(value: &Value, prefix: &str, depth: usize, into: &mut BTreeSet<String>) {
    let Value::Object(map) = value else { return };
    if depth >= MAX_DEPTH {
        return;
    }
    for (key, child) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        walk(child, &path, depth + 1, into);
        into.insert(path);
    }
}

/// The known path nearest `path`, if a misspelling away.
fn nearest(path: &str, known: &BTreeSet<String>) -> Option<String> {
    known
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(path, candidate), candidate))
        .filter(|&(distance, _)| distance <= MAX_DISTANCE)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Condition, EventPattern, Rule};

    fn rules(when: &str) -> Rules {
        let on = vec!["payment_intent.succeeded".parse::<EventPattern>().unwrap()];
        let when = Some(when.parse::<Condition>().unwrap());
        Rules::new(vec![Rule::new("paid".to_owned(), on, when, Vec::new())])
    }

    fn found(when: &str) -> Vec<String> {
        unknown_fields(&rules(when), &super::super::builtin())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_misspelt_normalized_field_is_named_with_the_field_meant() {
        let problems = found("customer.emial exists and amount > 0");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("`customer.emial`"), "{problems:?}");
        assert!(
            problems[0].contains("did you mean `customer.email`?"),
            "{problems:?}"
        );
        assert!(
            problems[0].contains("payment_intent.succeeded"),
            "{problems:?}"
        );
    }

    #[test]
    fn real_fields_metadata_order_and_far_payload_paths_pass() {
        let when = "customer.email exists and data.object.amount_received > 0 \
                    and data.object.metadata.channel == 'web' and order.changed \
                    and data.object.shipping.carrier_code exists and type == 'x'";
        assert_eq!(found(when), Vec::<String>::new());
        // A payload path a typo away from one the sample has is named.
        let problems = found("data.object.amount_recieved > 0");
        assert!(
            problems[0].contains("did you mean `data.object.amount_received`?"),
            "{problems:?}"
        );
    }
}
