//! Parsing the file into [`RawConfig`] with every schema problem reported at once.
//!
//! serde stops at the first unknown key or wrong type. So the file is parsed once
//! into a spanned tree, and deserializing is retried on it: each error names a span,
//! the key (or array element) holding that span is reported at its line and taken
//! out, and the rest is deserialized again, until it fits. What remains goes on to
//! validation, so a typo in `[dispatch]` and a bad rule show in the same run.

use std::collections::HashMap;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

mod suggest;

use super::instance::{self, RawDeliveries};
use super::locate::line_of;
use super::raw::RawConfig;
use super::Issue;

/// More problems than this in one file are not worth listing one by one.
const MAX_ISSUES: usize = 100;

/// What parsing found: the config as far as it fits, and the problems with the rest.
pub(super) struct Parsed<T = RawConfig> {
    /// `None` when a problem could not be taken out to continue.
    pub(super) raw: Option<T>,
    pub(super) issues: Vec<Issue>,
    /// `[plugins.<kind>.<name>]` instances taken out whole: rules may still name them.
    pub(super) dropped_instances: Vec<String>,
    /// Every instance's `rate_limit` and `failover_after_secs`, taken out of its table.
    pub(super) deliveries: RawDeliveries,
}

/// Where a problem sits in the tree: each step a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize, Range<usize>),
}

/// Parses `text` into `T` (the whole [`RawConfig`], or the sections a command needs);
/// `Err` only for TOML syntax errors, which leave nothing to go on.
pub(super) fn parse<T: DeserializeOwned>(text: &str) -> Result<Parsed<T>, toml::de::Error> {
    let mut root = DeTable::parse(text)?;
    let mut issues = Vec::new();
    let deliveries = instance::take_out(root.get_mut(), text, &mut issues);
    let mut dropped_instances = Vec::new();
    // Per container span, the keys taken out of it: a later "missing field" for one
    // of them is the same problem, already reported.
    let mut taken: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    // Per array span, the original indices taken out, to name later elements right.
    let mut removed: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    loop {
        let err = match T::deserialize(toml::de::Deserializer::from(root.clone())) {
            Ok(raw) => {
                // Tables come in key order; the reader goes down the file.
                issues.sort_by_key(|issue: &Issue| issue.line);
                return Ok(Parsed {
                    raw: Some(raw),
                    issues,
                    dropped_instances,
                    deliveries,
                });
            }
            Err(err) => err,
        };
        let message = suggest::with_suggestion(err.message().trim_end().to_owned());
        let found = err
            .span()
            .and_then(|span| locate(root.get_ref(), root.span(), &span).map(|path| (span, path)));
        let Some((span, (path, container))) = found.filter(|_| issues.len() < MAX_ISSUES) else {
            issues.push(Issue {
                line: err.span().map(|span| line_of(text, span.start)),
                key: String::new(),
                message,
            });
            return Ok(Parsed {
                raw: None,
                issues,
                dropped_instances,
                deliveries,
            });
        };
        let key = dotted(&path, &removed);
        let repeat = missing_field(&message).is_some_and(|field| {
            taken
                .get(&(span.start, span.end))
                .is_some_and(|keys| keys.iter().any(|k| k == field))
        });
        if !repeat {
            issues.push(Issue {
                line: Some(line_of(text, span.start)),
                key: key.clone(),
                message,
            });
        }
        if let [Step::Key(plugins), Step::Key(_), Step::Key(_)] = path.as_slice() {
            if plugins == "plugins" {
                dropped_instances.push(key.clone());
            }
        }
        if let Some(Step::Key(name)) = path.last() {
            taken
                .entry((container.start, container.end))
                .or_default()
                .push(name.clone());
        }
        take_out(root.get_mut(), &path, container, &mut removed);
    }
}

/// `Some("on")` for serde's "missing field `on`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// The path to the deepest key or element whose key or value holds `span`, and the
/// span of the table or array it is in. A `[table]`'s own span is only its header,
/// so every child is searched, not only those whose parent's span holds `span`.
fn locate(
    table: &DeTable<'_>,
    table_span: Range<usize>,
    span: &Range<usize>,
) -> Option<(Vec<Step>, Range<usize>)> {
    for (key, value) in table {
        let step = Step::Key(key.get_ref().to_string());
        if let Some((mut deeper, container)) = locate_within(value, span) {
            deeper.insert(0, step);
            return Some((deeper, container));
        }
        if contains(&key.span(), span) || contains(&value.span(), span) {
            return Some((vec![step], table_span));
        }
    }
    None
}

/// [`locate`] among the children of `value`, if it is a table or an array.
fn locate_within(
    value: &Spanned<DeValue<'_>>,
    span: &Range<usize>,
) -> Option<(Vec<Step>, Range<usize>)> {
    match value.get_ref() {
        DeValue::Table(table) => locate(table, value.span(), span),
        DeValue::Array(array) => {
            for (index, item) in array.iter().enumerate() {
                let step = Step::Index(index, value.span());
                if let Some((mut deeper, container)) = locate_within(item, span) {
                    deeper.insert(0, step);
                    return Some((deeper, container));
                }
                if contains(&item.span(), span) {
                    return Some((vec![step], value.span()));
                }
            }
            None
        }
        _ => None,
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
}

/// Removes the entry at `path` (whose container is `container`).
fn take_out(
    table: &mut DeTable<'_>,
    path: &[Step],
    container: Range<usize>,
    removed: &mut HashMap<(usize, usize), Vec<usize>>,
) {
    let Some((Step::Key(name), rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        table.remove(name.as_str());
        return;
    }
    let Some(value) = table.get_mut(name.as_str()) else {
        return;
    };
    take_out_value(value, rest, container, removed);
}

fn take_out_value(
    value: &mut Spanned<DeValue<'_>>,
    path: &[Step],
    container: Range<usize>,
    removed: &mut HashMap<(usize, usize), Vec<usize>>,
) {
    let span = value.span();
    match (value.get_mut(), path.split_first()) {
        (DeValue::Table(table), Some((Step::Key(_), _))) => {
            take_out(table, path, container, removed);
        }
        (DeValue::Array(array), Some((Step::Index(index, _), rest))) => {
            if rest.is_empty() {
                let original = original_index(*index, removed.get(&(span.start, span.end)));
                removed
                    .entry((span.start, span.end))
                    .or_default()
                    .push(original);
                let kept: DeArray<'_> = array
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i != index)
                    .map(|(_, item)| item.clone())
                    .collect();
                *array = kept;
            } else if let Some(item) = array.as_mut().get_mut(*index) {
                take_out_value(item, rest, container, removed);
            }
        }
        _ => {}
    }
}

/// The index an element had in the file, given the elements already taken out.
fn original_index(index: usize, removed: Option<&Vec<usize>>) -> usize {
    let mut taken: Vec<usize> = removed.cloned().unwrap_or_default();
    taken.sort_unstable();
    let mut original = index;
    for gone in taken {
        if gone <= original {
            original += 1;
        }
    }
    original
}

/// `dispatch.concurency`, `rules[2].on`: the path as the file's reader writes it.
fn dotted(path: &[Step], removed: &HashMap<(usize, usize), Vec<usize>>) -> String {
    let mut key = String::new();
    for step in path {
        match step {
            Step::Key(name) => {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(name);
            }
            Step::Index(index, span) => {
                let original = original_index(*index, removed.get(&(span.start, span.end)));
                key.push_str(&format!("[{original}]"));
            }
        }
    }
    key
}

#[cfg(test)]
mod tests;
