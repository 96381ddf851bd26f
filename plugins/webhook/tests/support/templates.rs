//! A stand-in for herald's handlebars registry: `{{dotted.path}}` substitution only,
//! strict about missing fields like herald's renderer, no escaping (like inline templates).
#![allow(dead_code)]

use herald_plugin_api::{RenderError, TemplatePart, Templates};
use serde_json::Value;

/// Renders inline templates only; there are no template files.
#[derive(Default)]
pub struct FakeTemplates;

impl Templates for FakeTemplates {
    fn render(&self, name: &str, part: TemplatePart, _: &Value) -> Result<String, RenderError> {
        Err(RenderError(format!(
            "no template {name}.{}.hbs",
            part.as_str()
        )))
    }

    fn has(&self, _: &str, _: TemplatePart) -> bool {
        false
    }

    fn render_inline(&self, template: &str, context: &Value) -> Result<String, RenderError> {
        substitute(template, context)
    }

    fn check_inline(&self, template: &str) -> Result<(), RenderError> {
        substitute(template, &Value::Null).map(drop).or_else(|err| {
            // Missing fields are fine when only checking syntax.
            if err.0.starts_with("missing field") {
                Ok(())
            } else {
                Err(err)
            }
        })
    }
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
