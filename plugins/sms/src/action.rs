//! The parameters of one sms action in a rule, e.g.
//! `{ plugin = "twilio", template = "order_paid", to = "{{customer.phone}}" }`.
//!
//! herald strips `plugin` and passes the rest. [`validate_action`] checks them at
//! start-up; the deliver stage parses them again with [`SmsAction::from_params`] on
//! every job, which is cheap and keeps `Job` the only input.

use herald_plugin_api::{or_problems, require_key, string_params, TemplatePart, Templates};
use serde_json::{Map, Value};

/// The recipient when an action sets no `to`.
pub const DEFAULT_TO: &str = "{{customer.phone}}";

/// One sms action's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsAction {
    /// The template set whose `<template>.txt.hbs` is the message text.
    pub template: String,
    /// An inline template producing the recipient's number; [`DEFAULT_TO`] when absent.
    pub to: Option<String>,
}

impl SmsAction {
    /// Parses an action's parameters.
    ///
    /// # Errors
    /// Every unknown key, non-string value and a missing `template`.
    pub fn from_params(params: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let [template, to] = string_params(params, ["template", "to"], &mut errors);
        require_key(
            params,
            "template",
            "`template` is required: the name of a `<template>.txt.hbs` in templates.dir",
            &mut errors,
        );
        match template {
            Some(template) if errors.is_empty() => Ok(Self {
                template: template.to_owned(),
                to: to.map(str::to_owned),
            }),
            _ => Err(errors),
        }
    }

    /// The recipient template.
    pub fn to_template(&self) -> &str {
        self.to.as_deref().unwrap_or(DEFAULT_TO)
    }
}

/// Checks an sms action's parameters, at start-up.
///
/// # Errors
/// Every problem found, as messages an operator can act on.
pub fn validate_action(
    params: &Map<String, Value>,
    templates: &dyn Templates,
) -> Result<(), Vec<String>> {
    let action = SmsAction::from_params(params)?;
    let mut errors = Vec::new();
    if !templates.has(&action.template, TemplatePart::Text) {
        errors.push(format!(
            "template `{}` has no text part: create {}",
            action.template,
            templates.file(&action.template, TemplatePart::Text)
        ));
    }
    if let Some(to) = &action.to {
        if to.trim().is_empty() {
            errors.push("`to` must not be empty; remove it to use `{{customer.phone}}`".into());
        } else if let Err(err) = templates.check_inline(to) {
            errors.push(format!("`to` is not a valid template: {err}"));
        }
    }
    or_problems((), errors)
}
