//! `--set data.object.metadata.order_id=A17`: one field of an event changed by hand.

use std::str::FromStr;

use serde_json::{Map, Value};

/// A dotted path and the value to put there.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Member names from the event's top, e.g. `["data", "object", "amount"]`;
    /// a number steps into an array that is already there.
    pub path: Vec<String>,
    /// What to put there.
    pub value: Value,
}

/// Why an assignment could not be read or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// No `=`, or nothing before it, or an empty segment (`a..b`).
    #[error("`{0}` is not PATH=VALUE with a dotted PATH, e.g. data.object.metadata.order_id=A17")]
    Syntax(String),
    /// A segment names a member of something that is not an object.
    #[error("cannot set `{path}`: `{parent}` is {kind}")]
    NotAnObject {
        path: String,
        parent: String,
        kind: &'static str,
    },
}

impl FromStr for Assignment {
    type Err = SetError;

    /// `PATH=VALUE`. VALUE is JSON when it parses as JSON (`49`, `true`, `null`,
    /// `"007"`, `{"a":1}`), otherwise the text as a string.
    fn from_str(text: &str) -> Result<Self, SetError> {
        let syntax = || SetError::Syntax(text.to_owned());
        let (path, raw) = text.split_once('=').ok_or_else(syntax)?;
        let path: Vec<String> = path.trim().split('.').map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            return Err(syntax());
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::from(raw));
        Ok(Self { path, value })
    }
}

/// Puts `assignment.value` at its path in `event`, creating missing objects on the way.
///
/// # Errors
/// When the path runs through a string, number, array (other than by an index it
/// has) or `null`.
pub fn set(event: &mut Value, assignment: &Assignment) -> Result<(), SetError> {
    let Some((last, parents)) = assignment.path.split_last() else {
        return Err(SetError::Syntax(String::new()));
    };
    let mut current = event;
    for (depth, name) in parents.iter().enumerate() {
        current = child(current, name).map_err(|kind| not_an_object(assignment, depth, kind))?;
    }
    let slot =
        child(current, last).map_err(|kind| not_an_object(assignment, parents.len(), kind))?;
    *slot = assignment.value.clone();
    Ok(())
}

/// `value`'s member `name` (an empty object put there first if it is missing), or
/// an array's item at index `name`; otherwise what `value` is, for the error.
fn child<'v>(value: &'v mut Value, name: &str) -> Result<&'v mut Value, &'static str> {
    match value {
        Value::Object(map) => Ok(map
            .entry(name.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))),
        Value::Array(items) => name
            .parse::<usize>()
            .ok()
            .and_then(|index| items.get_mut(index))
            .ok_or("an array without that index, not an object"),
        Value::String(_) => Err("a string, not an object"),
        Value::Number(_) => Err("a number, not an object"),
        Value::Bool(_) => Err("a boolean, not an object"),
        Value::Null => Err("null, not an object"),
    }
}

/// The error for a path whose segment at `depth` is inside `kind`.
fn not_an_object(assignment: &Assignment, depth: usize, kind: &'static str) -> SetError {
    SetError::NotAnObject {
        path: assignment.path.join("."),
        parent: if depth == 0 {
            "the event".to_owned()
        } else {
            assignment.path[..depth].join(".")
        },
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(event: &mut Value, text: &str) -> Result<(), SetError> {
        set(event, &text.parse()?)
    }

    #[test]
    fn values_are_json_when_they_parse_and_text_otherwise() {
        let mut event = json!({"data": {"object": {"metadata": {}}}});
        for text in [
            "data.object.metadata.order_id=A17",
            "data.object.amount=49",
            "data.object.paid=true",
            "data.object.receipt_email=null",
            "data.object.code=\"007\"",
            "data.object.note=a=b",
            "data.object.empty=",
        ] {
            apply(&mut event, text).unwrap();
        }
        assert_eq!(
            event,
            json!({"data": {"object": {
                "metadata": {"order_id": "A17"},
                "amount": 49, "paid": true, "receipt_email": null,
                "code": "007", "note": "a=b", "empty": "",
            }}})
        );
    }

    #[test]
    fn missing_objects_are_created_and_array_items_reached_by_index() {
        let mut event = json!({"data": {"object": {"lines": {"data": [{"amount": 1}]}}}});
        apply(&mut event, "data.object.metadata.order_id=A17").unwrap();
        apply(&mut event, "data.object.lines.data.0.amount=2").unwrap();
        assert_eq!(event["data"]["object"]["metadata"]["order_id"], "A17");
        assert_eq!(event["data"]["object"]["lines"]["data"][0]["amount"], 2);
    }

    #[test]
    fn a_path_through_a_non_object_is_refused_by_name() {
        let mut event = json!({"data": {"object": {"amount": 49, "lines": []}}});
        let err = apply(&mut event, "data.object.amount.value=1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot set `data.object.amount.value`: `data.object.amount` is a number, not an object"
        );
        let err = apply(&mut event, "data.object.lines.3.amount=1").unwrap_err();
        assert!(
            err.to_string()
                .contains("`data.object.lines` is an array without that index"),
            "{err}"
        );
        assert_eq!(
            event,
            json!({"data": {"object": {"amount": 49, "lines": []}}})
        );
    }

    #[test]
    fn malformed_assignments_say_what_is_expected() {
        for text in ["no-equals", "=1", "data..object=1", ".a=1"] {
            let err = text.parse::<Assignment>().unwrap_err();
            assert!(err.to_string().contains("PATH=VALUE"), "{text}: {err}");
        }
    }
}
