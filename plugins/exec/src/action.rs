//! The parameters of one exec action in a rule, e.g.
//! `{ plugin = "erp", args = ["{{order_id}}", "{{customer.email}}"] }`.
//!
//! herald strips `plugin` and passes the rest. [`validate_action`] checks them at
//! start-up; the deliver stage parses them again with [`ExecAction::from_params`] on every
//! job, which is cheap and keeps `Job` the only input.
//!
//! Each rendered argument becomes one argv entry of its own; no shell ever sees them, so
//! event data cannot inject options' values into other arguments or run commands.

use herald_plugin_api::{or_problems, Templates};
use serde_json::{Map, Value};

/// One exec action's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecAction {
    /// Inline templates, rendered against the event and appended after the instance's
    /// fixed `args`, one argv entry each.
    pub args: Vec<String>,
}

impl ExecAction {
    /// Parses an action's parameters (all optional).
    ///
    /// # Errors
    /// Every unknown key and malformed value.
    pub fn from_params(params: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut args = Vec::new();
        for (key, value) in params {
            if key != "args" {
                errors.push(format!("unknown key `{key}` (expected `args`)"));
                continue;
            }
            let Some(list) = value.as_array() else {
                errors.push("`args` must be a list of strings".to_owned());
                continue;
            };
            for (index, item) in list.iter().enumerate() {
                match item.as_str() {
                    Some(text) => args.push(text.to_owned()),
                    None => errors.push(format!("`args[{index}]` must be a string")),
                }
            }
        }
        or_problems(Self { args }, errors)
    }
}

/// Checks an exec action's parameters, at start-up: known keys only, and every argument
/// a template that parses.
///
/// # Errors
/// Every problem found, as messages an operator can act on.
pub fn validate_action(
    params: &Map<String, Value>,
    templates: &dyn Templates,
) -> Result<(), Vec<String>> {
    let action = ExecAction::from_params(params)?;
    let errors: Vec<String> = action
        .args
        .iter()
        .enumerate()
        .filter_map(|(index, arg)| {
            templates
                .check_inline(arg)
                .err()
                .map(|err| format!("`args[{index}]` is not a valid template: {err}"))
        })
        .collect();
    or_problems((), errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_plugin_api::{RenderError, TemplatePart};
    use herald_testkit::params;
    use serde_json::json;

    /// Accepts any template without an unclosed `{{`.
    struct Check;

    impl Templates for Check {
        fn render(&self, _: &str, _: TemplatePart, _: &Value) -> Result<String, RenderError> {
            Err(RenderError("no files".into()))
        }
        fn has(&self, _: &str, _: TemplatePart) -> bool {
            false
        }
        fn render_inline(&self, template: &str, _: &Value) -> Result<String, RenderError> {
            Ok(template.to_owned())
        }
        fn check_inline(&self, template: &str) -> Result<(), RenderError> {
            if template.matches("{{").count() == template.matches("}}").count() {
                Ok(())
            } else {
                Err(RenderError("unclosed `{{`".into()))
            }
        }
    }

    #[test]
    fn accepts_no_params_and_template_args() {
        assert_eq!(validate_action(&Map::new(), &Check), Ok(()));
        let ok = params(json!({ "args": ["{{order_id}}", "--fixed"] }));
        assert_eq!(validate_action(&ok, &Check), Ok(()));
        assert_eq!(
            ExecAction::from_params(&ok).unwrap().args,
            ["{{order_id}}", "--fixed"]
        );
    }

    #[test]
    fn reports_unknown_keys_bad_values_and_bad_templates() {
        let bad = params(json!({ "path": "/x", "args": ["ok", 3] }));
        let errors = validate_action(&bad, &Check).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors
            .iter()
            .any(|e| e.contains("`args[1]` must be a string")));
        assert!(errors.iter().any(|e| e.contains("unknown key `path`")));

        let not_list = params(json!({ "args": "{{order_id}}" }));
        assert!(validate_action(&not_list, &Check).unwrap_err()[0].contains("list"));

        let unclosed = params(json!({ "args": ["ok", "{{order_id"] }));
        let errors = validate_action(&unclosed, &Check).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("`args[1]` is not a valid template"));
    }
}
