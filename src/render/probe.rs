//! Every missing field of a template at once, for `herald check` and `herald render`.
//!
//! Strict rendering stops at the first field that is not in the data. To name the
//! next one too, the probe puts an empty string where the missing field was and
//! renders again, until the template renders or stops at something the placeholder
//! cannot stand in for.

use handlebars::RenderErrorReason;
use herald_plugin_api::{RenderError, TemplatePart, Templates};
use serde_json::{Map, Value};

use super::Renderer;

/// Rounds at most: a template with more missing fields than this has bigger problems.
const MAX_ROUNDS: usize = 32;

/// What to render: one part of a template set, or an inline template from config.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// `<name>.<part>.hbs` in the templates folder.
    Set(&'a str, TemplatePart),
    /// A template written in an action's parameters, such as `to = "{{customer.email}}"`.
    Inline(&'a str),
}

impl Renderer {
    /// Every problem rendering `source` against `context` shows: each missing field
    /// (strict mode), or the first error of another kind. Empty when it renders.
    pub fn problems(&self, source: Source<'_>, context: &Value) -> Vec<RenderError> {
        let file = match source {
            Source::Set(name, part) => {
                if !self.has(name, part) {
                    // The same "no template …" delivery would fail with.
                    return self.render(name, part, context).err().into_iter().collect();
                }
                Some(format!("{name}.{}.hbs", part.as_str()))
            }
            Source::Inline(template) => {
                // A template that could overflow the stack is reported, not rendered.
                if let Err(error) = self.check_inline(template) {
                    return vec![error];
                }
                None
            }
        };
        let mut context = context.clone();
        let mut problems = Vec::new();
        for _ in 0..MAX_ROUNDS {
            let result = match source {
                Source::Set(_, part) => self
                    .registry(part)
                    .render(file.as_deref().unwrap_or_default(), &context),
                Source::Inline(template) => self.text.render_template(template, &context),
            };
            let Err(error) = result else { break };
            let missing = match error.reason() {
                RenderErrorReason::MissingVariable(Some(path)) => Some(path.clone()),
                _ => None,
            };
            // After a placeholder went in, only missing fields are news: another error
            // may be the placeholder's doing (`money` given an empty string).
            if missing.is_none() && !problems.is_empty() {
                break;
            }
            let described = self.describe(file.as_deref(), &error);
            if problems.contains(&described) {
                break;
            }
            problems.push(described);
            match missing {
                Some(path) if fill(&mut context, &path) => {}
                _ => break,
            }
        }
        problems
    }
}

/// Puts an empty string at the dotted `path` from the root, creating the objects on
/// the way. False when it cannot: a path relative to a block (`../x`, `@root`, `[0]`),
/// or one that runs through a value that is not an object.
fn fill(context: &mut Value, path: &str) -> bool {
    let path = path.strip_prefix("this.").unwrap_or(path);
    let segments: Vec<&str> = path.split('.').collect();
    let plain = |segment: &&str| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    };
    if !segments.iter().all(plain) {
        return false;
    }
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut current = context;
    for segment in parents {
        let Value::Object(map) = current else {
            return false;
        };
        let next = map
            .entry((*segment).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if next.is_null() {
            *next = Value::Object(Map::new());
        }
        current = next;
    }
    match current {
        Value::Object(map) if !map.contains_key(*last) => {
            map.insert((*last).to_owned(), Value::String(String::new()));
            true
        }
        _ => false,
    }
}
