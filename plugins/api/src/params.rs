//! Reading a rule action's parameters (everything but `plugin`): most kinds take a few
//! keys whose values are strings, and report every problem at once.

use serde_json::{Map, Value};

/// The values of `keys` in `params`, in the order of `keys`. A key not among them, or a
/// value that is not a string, is recorded in `errors`; reading goes on, so one check
/// names every problem.
pub fn string_params<'a, const N: usize>(
    params: &'a Map<String, Value>,
    keys: [&str; N],
    errors: &mut Vec<String>,
) -> [Option<&'a str>; N] {
    let mut found = [None; N];
    for (key, value) in params {
        let Some(slot) = keys.iter().position(|known| known == key) else {
            let expected = keys.map(|k| format!("`{k}`")).join(", ");
            errors.push(format!("unknown key `{key}` (expected {expected})"));
            continue;
        };
        match value.as_str() {
            Some(text) => found[slot] = Some(text),
            None => errors.push(format!("`{key}` must be a string")),
        }
    }
    found
}

/// Records `message` when `params` lacks `key` altogether; a value of the wrong type
/// was already reported by [`string_params`].
pub fn require_key(
    params: &Map<String, Value>,
    key: &str,
    message: &str,
    errors: &mut Vec<String>,
) {
    if !params.contains_key(key) {
        errors.push(message.to_owned());
    }
}

/// `value` when no problem was recorded, else every problem: how a check that collects
/// its findings ends.
///
/// # Errors
/// `errors`, when there is any.
pub fn or_problems<T>(value: T, errors: Vec<String>) -> Result<T, Vec<String>> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_problem_is_named_and_the_strings_are_kept() {
        let Value::Object(params) = json!({ "to": "a@example.com", "cc": "x", "template": 3 })
        else {
            unreachable!()
        };
        let mut errors = Vec::new();
        let [template, to] = string_params(&params, ["template", "to"], &mut errors);
        require_key(&params, "template", "missing `template`", &mut errors);
        require_key(&params, "subject", "missing `subject`", &mut errors);
        assert_eq!((template, to), (None, Some("a@example.com")));
        assert_eq!(
            errors,
            [
                "unknown key `cc` (expected `template`, `to`)",
                "`template` must be a string",
                "missing `subject`",
            ]
        );
    }
}
