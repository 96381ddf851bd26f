//! The parameters of one webhook action in a rule, e.g.
//! `{ plugin = "shipping", path = "/orders/{{order_id}}/ship", event_type = "order.paid" }`.
//!
//! herald strips `plugin` and passes the rest. [`validate_action`] checks them at
//! start-up; the deliver stage parses them again with [`WebhookAction::from_params`] on
//! every job, which is cheap and keeps `Job` the only input.
//!
//! A `path` is split into segments at every `/` outside `{{…}}`; each segment is a
//! template of its own whose output is percent-encoded, so event data can never change
//! the path's shape, the host or the query. A block helper therefore has to open and
//! close within one segment.

use herald_plugin_api::{or_problems, string_params, Templates};
use serde_json::{Map, Value};

/// The keys a webhook action accepts, in the order error messages list them.
const KEYS: [&str; 3] = ["path", "body", "event_type"];

/// One webhook action's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookAction {
    /// Appended to the instance's URL; each `/`-separated segment is an inline template
    /// whose output is percent-encoded, e.g. `/orders/{{order_id}}/ship`.
    pub path: Option<String>,
    /// An inline template producing the JSON body; the built-in body when absent.
    pub body: Option<String>,
    /// Added as `"event_type"` to the built-in body, e.g. `order.paid`.
    pub event_type: Option<String>,
}

impl WebhookAction {
    /// Parses an action's parameters (all optional).
    ///
    /// # Errors
    /// Every unknown key and non-string value.
    pub fn from_params(params: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let [path, body, event_type] = string_params(params, KEYS, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            path: path.map(str::to_owned),
            body: body.map(str::to_owned),
            event_type: event_type.map(str::to_owned),
        })
    }
}

/// Checks a webhook action's parameters, at start-up.
///
/// # Errors
/// Every problem found, as messages an operator can act on.
pub fn validate_action(
    params: &Map<String, Value>,
    templates: &dyn Templates,
) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let [path, body, event_type] = string_params(params, KEYS, &mut errors);
    if let Some(path) = path {
        check_path(path, templates, &mut errors);
    }
    if let Some(body) = body {
        if let Err(message) = check_body(body, templates) {
            errors.push(message);
        }
    }
    match (event_type, body) {
        (Some(_), Some(_)) => errors.push(
            "`event_type` only applies to the built-in body; with `body` set, \
             write the event type into the body template instead"
                .to_owned(),
        ),
        (Some(kind), None) if kind.trim().is_empty() => {
            errors.push("`event_type` must not be empty".to_owned());
        }
        _ => {}
    }
    or_problems((), errors)
}

/// Splits a path template after its leading `/` at every `/` outside `{{…}}`, so helpers
/// such as `{{/if}}` stay whole.
///
/// # Errors
/// When the path does not start with `/`.
pub(crate) fn path_segments(path: &str) -> Result<Vec<&str>, String> {
    let rest = path.strip_prefix('/').ok_or_else(|| {
        format!("`path` must start with `/` (e.g. \"/orders/{{{{order_id}}}}/ship\"), got `{path}`")
    })?;
    let mut segments = Vec::new();
    let mut start = 0;
    let mut inside = false;
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !inside && bytes[i..].starts_with(b"{{") {
            inside = true;
            i += 2;
        } else if inside && bytes[i..].starts_with(b"}}") {
            inside = false;
            i += 2;
        } else {
            if !inside && bytes[i] == b'/' {
                segments.push(&rest[start..i]);
                start = i + 1;
            }
            i += 1;
        }
    }
    segments.push(&rest[start..]);
    Ok(segments)
}

/// The text of a template outside its `{{…}}` expressions.
fn literal_text(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        match rest[open..].find("}}") {
            Some(close) => rest = &rest[open + close + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Records every problem of a path template.
fn check_path(path: &str, templates: &dyn Templates, errors: &mut Vec<String>) {
    let segments = match path_segments(path) {
        Ok(segments) => segments,
        Err(message) => {
            errors.push(message);
            return;
        }
    };
    let literal = literal_text(path);
    if literal.contains("://") {
        errors.push(format!(
            "`path` must not contain `://` (got `{path}`): the scheme and host come from \
             the instance's `url`"
        ));
    }
    if literal.contains(['?', '#']) {
        errors.push(format!(
            "`path` must not contain `?` or `#` (got `{path}`): put a fixed query string \
             in the instance's `url`"
        ));
    }
    let last = segments.len() - 1;
    for (index, segment) in segments.iter().enumerate() {
        if segment.is_empty() && index != last {
            errors.push(format!("`path` has an empty segment (`//`) in `{path}`"));
        } else if matches!(*segment, "." | "..") {
            errors.push(format!(
                "`path` must not have `.` or `..` segments (got `{path}`)"
            ));
        } else if let Err(err) = templates.check_inline(segment) {
            errors.push(format!(
                "`path` segment `{segment}` is not a valid template: {err} \
                 (each `/`-separated segment is a template of its own)"
            ));
        }
    }
}

/// A body template must parse; a fixed one (no `{{`) must also be JSON already.
fn check_body(body: &str, templates: &dyn Templates) -> Result<(), String> {
    templates
        .check_inline(body)
        .map_err(|err| format!("`body` is not a valid template: {err}"))?;
    if !body.contains("{{") {
        serde_json::from_str::<Value>(body)
            .map_err(|err| format!("`body` is not valid JSON: {err}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
