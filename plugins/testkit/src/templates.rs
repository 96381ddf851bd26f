//! Stand-ins for herald's handlebars registry: `{{dotted.path}}` substitution only, strict
//! about missing fields like herald's renderer, no escaping (like inline templates).
//!
//! [`FakeTemplates`] has no template files, for plugins that render inline templates
//! only; [`TemplateFiles`] holds `<name>.<part>.hbs` files in memory.

use std::collections::HashMap;

use herald_plugin_api::{RenderError, TemplatePart, Templates};
use serde_json::Value;

/// Renders inline templates only; there are no template files.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeTemplates;

impl Templates for FakeTemplates {
    fn render(&self, name: &str, part: TemplatePart, _: &Value) -> Result<String, RenderError> {
        Err(not_found(name, part))
    }

    fn has(&self, _: &str, _: TemplatePart) -> bool {
        false
    }

    fn render_inline(&self, template: &str, context: &Value) -> Result<String, RenderError> {
        substitute(template, context)
    }

    fn check_inline(&self, template: &str) -> Result<(), RenderError> {
        check(template)
    }
}

/// Template files by `(set name, part)`, and inline templates as [`FakeTemplates`].
#[derive(Debug, Default, Clone)]
pub struct TemplateFiles {
    files: HashMap<(String, TemplatePart), String>,
}

impl TemplateFiles {
    /// Adds `<name>.<part>.hbs`.
    pub fn with(mut self, name: &str, part: TemplatePart, text: &str) -> Self {
        self.files.insert((name.to_owned(), part), text.to_owned());
        self
    }
}

impl Templates for TemplateFiles {
    fn render(
        &self,
        name: &str,
        part: TemplatePart,
        context: &Value,
    ) -> Result<String, RenderError> {
        let template = self
            .files
            .get(&(name.to_owned(), part))
            .ok_or_else(|| not_found(name, part))?;
        substitute(template, context)
    }

    fn has(&self, name: &str, part: TemplatePart) -> bool {
        self.files.contains_key(&(name.to_owned(), part))
    }

    fn render_inline(&self, template: &str, context: &Value) -> Result<String, RenderError> {
        substitute(template, context)
    }

    fn check_inline(&self, template: &str) -> Result<(), RenderError> {
        check(template)
    }
}

fn not_found(name: &str, part: TemplatePart) -> RenderError {
    RenderError(format!("no template {name}.{}.hbs", part.as_str()))
}

/// Checks the syntax only: missing fields are fine when there is no context yet.
fn check(template: &str) -> Result<(), RenderError> {
    substitute(template, &Value::Null).map(drop).or_else(|err| {
        if err.0.starts_with("missing field") {
            Ok(())
        } else {
            Err(err)
        }
    })
}

fn substitute(template: &str, context: &Value) -> Result<String, RenderError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| RenderError(format!("unclosed `{{{{` at byte {open}")))?;
        let path = after[..close].trim();
        let value = path
            .split('.')
            .try_fold(context, |value, key| value.get(key))
            .ok_or_else(|| RenderError(format!("missing field `{path}`")))?;
        match value {
            Value::String(text) => out.push_str(text),
            Value::Null => return Err(RenderError(format!("missing field `{path}`"))),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
