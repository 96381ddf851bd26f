//! The parameters of one email action in a rule, e.g.
//! `{ plugin = "customer_mail", template = "payment_succeeded", to = "{{customer.email}}" }`.
//!
//! herald strips `plugin` and passes the rest. [`validate_action`] checks them at
//! start-up against the loaded templates; the deliver stage parses them again with
//! [`EmailAction::from_params`] on every job, which is cheap and keeps `Job` the only input.

use herald_plugin_api::{or_problems, require_key, string_params, TemplatePart, Templates};
use lettre::message::Mailbox;
use serde_json::{Map, Value};

/// The keys an email action accepts, in the order error messages list them.
const KEYS: [&str; 4] = ["template", "to", "reply_to", "attachments"];

/// One email action's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAction {
    /// The template set: `templates/<template>.{subject,txt,html}.hbs`.
    pub template: String,
    /// Inline template giving the recipient, e.g. `{{customer.email}}` or a fixed address.
    pub to: String,
    /// Inline template giving a `Reply-To` that overrides the instance's default.
    pub reply_to: Option<String>,
    /// A dotted path to the files to attach, carried by the event (a digest's CSV).
    pub attachments: Option<String>,
}

/// The values of [`KEYS`]; every unknown key, non-string value and missing key goes
/// into `errors`.
fn read<'a>(params: &'a Map<String, Value>, errors: &mut Vec<String>) -> [Option<&'a str>; 4] {
    let found = string_params(params, KEYS, errors);
    require_key(
        params,
        "template",
        "missing `template` (the template set to render, e.g. \"payment_succeeded\")",
        errors,
    );
    let to_example = "missing `to` (the recipient, e.g. \"{{customer.email}}\")";
    require_key(params, "to", to_example, errors);
    found
}

impl EmailAction {
    /// Parses an action's parameters.
    ///
    /// # Errors
    /// Every unknown key, missing key and non-string value.
    pub fn from_params(params: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let [template, to, reply_to, attachments] = read(params, &mut errors);
        match (template, to) {
            (Some(template), Some(to)) if errors.is_empty() => Ok(Self {
                template: template.to_owned(),
                to: to.to_owned(),
                reply_to: reply_to.map(str::to_owned),
                attachments: attachments.map(str::to_owned),
            }),
            _ => Err(errors),
        }
    }
}

/// Checks an email action's parameters against the loaded templates, at start-up.
///
/// # Errors
/// Every problem found, as messages an operator can act on.
pub fn validate_action(
    params: &Map<String, Value>,
    templates: &dyn Templates,
) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let [template, to, reply_to, attachments] = read(params, &mut errors);
    if let Some(path) = attachments.filter(|path| !crate::attachments::is_path(path)) {
        errors.push(format!(
            "`attachments` must be a dotted path to the event's files, e.g. \"data.object.attachments\", not `{path}`"
        ));
    }
    if let Some(template) = template {
        if let Err(message) = check_template_set(templates, template) {
            errors.push(message);
        }
    }
    for (key, value) in [("to", to), ("reply_to", reply_to)] {
        if let Some(value) = value {
            if let Err(message) = check_address_template(templates, key, value) {
                errors.push(message);
            }
        }
    }
    or_problems((), errors)
}

/// A set needs a subject and at least one body; checked at start-up and again per
/// delivery, because a template reload could in principle remove files.
pub(crate) fn check_template_set(templates: &dyn Templates, name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("`template` must not be empty".to_owned());
    }
    let subject = templates.has(name, TemplatePart::Subject);
    let body = templates.has(name, TemplatePart::Text) || templates.has(name, TemplatePart::Html);
    let file = |part: TemplatePart| templates.file(name, part);
    let (subject_file, text_file, html_file) = (
        file(TemplatePart::Subject),
        file(TemplatePart::Text),
        file(TemplatePart::Html),
    );
    match (subject, body) {
        (true, true) => Ok(()),
        (false, false) => Err(format!(
            "template `{name}` not found: expected {subject_file} and {text_file} or {html_file}"
        )),
        (false, true) => Err(format!(
            "template `{name}` is incomplete: expected {subject_file}"
        )),
        (true, false) => Err(format!(
            "template `{name}` is incomplete: expected {text_file} or {html_file} \
             next to {subject_file}"
        )),
    }
}

/// An address template must parse; a fixed one (no `{{`) must also be a valid address,
/// so a typo is caught at start-up rather than on the first event.
fn check_address_template(templates: &dyn Templates, key: &str, value: &str) -> Result<(), String> {
    templates
        .check_inline(value)
        .map_err(|err| format!("`{key}` is not a valid template: {err}"))?;
    if !value.contains("{{") {
        value
            .trim()
            .parse::<Mailbox>()
            .map_err(|err| format!("`{key}` is not a valid email address: `{value}` ({err})"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
