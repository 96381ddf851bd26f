//! Rendering for the deliver stage: turns an event's context into the subject, HTML and
//! text of a notification, with the handlebars templates a marketer edits.
//!
//! # The templates folder
//!
//! * `<name>.subject.hbs`, `<name>.html.hbs`, `<name>.txt.hbs`: one template set per
//!   notification, e.g. `payment_succeeded`. A set may lack parts (an SMS needs only `txt`);
//!   [`Templates::has`] tells which exist.
//! * `partials/<stem>.hbs`: partials, named by file stem: `partials/layout.hbs` is used as
//!   `{{> layout}}` or as a layout block `{{#> layout title="…"}}…{{/layout}}`. Stems and set
//!   names are snake_case identifiers (`[A-Za-z_][A-Za-z0-9_-]*`): handlebars accepts them as
//!   partial names without quoting, and they cannot collide with the registered set files
//!   (`<name>.<part>.hbs`, which contain dots). Every partial is usable from every kind of
//!   template; a reference to a partial that does not exist fails at load time, not at the
//!   first delivery.
//! * Dotfiles (editor swap and lock files), other extensions and other folders are ignored;
//!   a `.hbs` file whose part is not `subject`, `html` or `txt` is a load error, so a typo
//!   like `.text.hbs` is not silently skipped.
//!
//! # Escaping
//!
//! Two registries hold the same partials and helpers: the HTML one escapes every `{{value}}`
//! (`{{{value}}}` opts out), the text one escapes nothing. Subjects, text parts and inline
//! templates from config render with the text one. A rendered subject is folded onto one line
//! (trimmed lines joined by a space), so a stray newline in a template or in the data can never
//! start a new mail header.
//!
//! # Strict mode (handlebars-rust 6.4, checked by tests below)
//!
//! * `{{field}}` (and `{{{field}}}`) on a key absent from the context is an error naming its
//!   path. A key that is present but `null` renders as an empty string, without error.
//! * `{{#if}}` and `{{#unless}}` do not enforce strictness on their argument: an absent key,
//!   or a path through an absent or `null` object (`data.object.last_payment_error.message`),
//!   is simply false. So `{{#if customer.name}}Hi {{customer.name}}{{else}}Hello{{/if}}` works
//!   whether the name is `null` (as `Event::context()` gives the normalized fields) or absent.
//! * `{{#with x}}` and `{{#each x}}` are the trap: when `x` is absent, `null` or `false` (or not
//!   a list/object, for `each`) they fail in strict mode *unless the block has an `{{else}}`*,
//!   which may be empty. Give every `#with`/`#each` over optional data an `{{else}}`, or wrap
//!   it in `{{#if x}}`. Empty lists and objects are fine.
//! * Other helpers receive an absent argument as "missing" and decide: herald's helpers
//!   (`money`, `date`, `upper`, `lower`, `json`) fail naming the path; handlebars' own `eq`,
//!   `len`, `lookup`… fail too. `null` arguments are errors in herald's helpers but `json`:
//!   guard optional values with `{{#if}}` (use `includeZero=true` for amounts that may be 0).
//! * Hash arguments of a partial become context fields for it, so a layout that reads
//!   `{{title}}` needs every caller to pass `title=…`.

mod draft;
mod files;
mod helpers;
mod probe;
mod shape;
mod syntax;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use self::files::{check_partials, compile, invalid, is_identifier, list_hbs};
pub use self::helpers::{minor_digits, time_zone};
use self::helpers::{FnHelper, HELPERS};
pub use self::probe::Source;
use self::shape::Body;
use chrono::DateTime;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, RenderContext, RenderErrorReason, ScopedJson, Template,
    TemplateError,
};
use herald_plugin_api::{RenderError, TemplatePart, Templates};
use serde_json::Value;

/// herald's template registry, loaded once at start-up from the templates folder.
#[derive(Debug, Clone)]
pub struct Renderer {
    /// The folder loaded from, to name files in error messages.
    dir: PathBuf,
    /// HTML parts; escapes values.
    html: Handlebars<'static>,
    /// Subject and text parts, inline templates; escapes nothing.
    text: Handlebars<'static>,
    /// Template set names, sorted.
    names: BTreeSet<String>,
}

/// The templates folder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A template does not parse.
    #[error("{} line {line}, column {column}: {message}", path.display())]
    Syntax {
        /// The template file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// A file is misnamed, refers to an unknown partial, or fails to parse at no known position.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Renderer {
    /// Loads every `<name>.subject.hbs`, `<name>.html.hbs`, `<name>.txt.hbs` in `dir` and every
    /// `dir/partials/*.hbs`.
    ///
    /// # Errors
    /// When a file cannot be read, is misnamed, does not parse, or uses an unknown partial.
    pub fn load(dir: &Path) -> Result<Renderer, LoadError> {
        let mut renderer = Renderer {
            dir: dir.to_owned(),
            html: new_registry(true),
            text: new_registry(false),
            names: BTreeSet::new(),
        };
        let mut partials = BTreeSet::new();
        let mut compiled = Vec::new();
        let partials_dir = dir.join("partials");
        // The partials folder is optional: a set of plain templates needs none.
        let partial_files = match list_hbs(&partials_dir) {
            Err(LoadError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Vec::new()
            }
            other => other?,
        };
        for (path, file_name) in partial_files {
            let stem = file_name.trim_end_matches(".hbs");
            if !is_identifier(stem) {
                return Err(invalid(
                    &path,
                    "a partial's name must be a snake_case identifier",
                ));
            }
            let template = compile(&path, stem)?;
            // The same partial in both registries: a layout or footer serves HTML and text.
            renderer.html.register_template(stem, template.clone());
            renderer.text.register_template(stem, template.clone());
            partials.insert(stem.to_owned());
            compiled.push((path, template));
        }
        for (path, file_name) in list_hbs(dir)? {
            let (name, part) = match file_name.trim_end_matches(".hbs").rsplit_once('.') {
                Some((name, "subject")) => (name, TemplatePart::Subject),
                Some((name, "html")) => (name, TemplatePart::Html),
                Some((name, "txt")) => (name, TemplatePart::Text),
                _ => {
                    let why = "expected <name>.subject.hbs, <name>.html.hbs or <name>.txt.hbs";
                    return Err(invalid(&path, why));
                }
            };
            if !is_identifier(name) {
                return Err(invalid(
                    &path,
                    "a template's name must be a snake_case identifier",
                ));
            }
            let template = compile(&path, &file_name)?;
            renderer
                .registry_mut(part)
                .register_template(&file_name, template.clone());
            renderer.names.insert(name.to_owned());
            compiled.push((path, template));
        }
        for (path, template) in &compiled {
            check_partials(path, template, &partials)?;
        }
        let sets: Vec<Body<'_>> = compiled
            .iter()
            .map(|(path, template)| Body { path, template })
            .collect();
        renderer.check_shape(&sets)?;
        let (sets, partials) = (renderer.names.len(), partials.len());
        tracing::debug!(dir = %dir.display(), sets, partials, "templates loaded");
        Ok(renderer)
    }

    /// Template set names found (e.g. "payment_succeeded"), sorted.
    pub fn names(&self) -> Vec<String> {
        self.names.iter().cloned().collect()
    }

    fn registry_mut(&mut self, part: TemplatePart) -> &mut Handlebars<'static> {
        match part {
            TemplatePart::Html => &mut self.html,
            TemplatePart::Subject | TemplatePart::Text => &mut self.text,
        }
    }

    fn registry(&self, part: TemplatePart) -> &Handlebars<'static> {
        match part {
            TemplatePart::Html => &self.html,
            TemplatePart::Subject | TemplatePart::Text => &self.text,
        }
    }

    /// Fails when `templates`, with the partials loaded, could recurse without end or
    /// nest too deep to render on a worker's stack ([`shape`]).
    fn check_shape(&self, templates: &[Body<'_>]) -> Result<(), LoadError> {
        let partials_dir = self.dir.join("partials");
        let paths: Vec<(&str, PathBuf, &Template)> = self
            .html
            .get_templates()
            .iter()
            .filter(|(key, _)| !key.contains('.'))
            .map(|(stem, template)| {
                let path = partials_dir.join(format!("{stem}.hbs"));
                (stem.as_str(), path, template)
            })
            .collect();
        let partials: Vec<(&str, Body<'_>)> = paths
            .iter()
            .map(|(stem, path, template)| (*stem, Body { path, template }))
            .collect();
        shape::check(&partials, templates)
    }

    /// Turns a handlebars error into one a marketer can act on: which file, where, what.
    /// `file` is the set's file, `None` for an inline template.
    fn describe(&self, file: Option<&str>, e: &handlebars::RenderError) -> RenderError {
        let what = match e.reason() {
            RenderErrorReason::MissingVariable(Some(path)) => {
                format!("`{path}` is not in the data (strict mode)")
            }
            RenderErrorReason::MissingVariable(None) => "a value is not in the data".to_owned(),
            RenderErrorReason::TemplateError(e) => syntax_message(e),
            other => other.to_string(),
        };
        let rendered = match file {
            Some(file) => self.dir.join(file).display().to_string(),
            None => "inline template".to_owned(),
        };
        // An error inside a partial carries the partial's name, not the file rendered;
        // the position is the partial's.
        let partial = e
            .template_name
            .as_deref()
            .filter(|name| Some(*name) != file)
            .map(|name| self.dir.join("partials").join(format!("{name}.hbs")));
        let at = partial
            .as_ref()
            .map_or_else(|| rendered.clone(), |path| path.display().to_string());
        // `file:line:column:` as compilers print it, so editors and terminals jump there.
        let mut message = match (e.line_no, e.column_no, file.is_some() || partial.is_some()) {
            (Some(line), Some(column), true) => format!("{at}:{line}:{column}: {what}"),
            (Some(line), Some(column), false) => {
                format!("{at} line {line}, column {column}: {what}")
            }
            _ => format!("{at}: {what}"),
        };
        if partial.is_some() {
            let _ = write!(message, " (in a partial of {rendered})");
        }
        RenderError(message)
    }
}

impl Templates for Renderer {
    fn render(
        &self,
        name: &str,
        part: TemplatePart,
        context: &Value,
    ) -> Result<String, RenderError> {
        let file = format!("{name}.{}.hbs", part.as_str());
        let registry = self.registry(part);
        if !self.names.contains(name) || !registry.has_template(&file) {
            let missing = self.dir.join(&file);
            return Err(RenderError(format!("no template {}", missing.display())));
        }
        let rendered = registry
            .render(&file, context)
            .map_err(|e| self.describe(Some(&file), &e))?;
        Ok(match part {
            TemplatePart::Subject => one_line(&rendered),
            TemplatePart::Html | TemplatePart::Text => rendered,
        })
    }

    fn has(&self, name: &str, part: TemplatePart) -> bool {
        self.names.contains(name)
            && self
                .registry(part)
                .has_template(&format!("{name}.{}.hbs", part.as_str()))
    }

    fn file(&self, name: &str, part: TemplatePart) -> String {
        self.dir
            .join(format!("{name}.{}.hbs", part.as_str()))
            .display()
            .to_string()
    }

    fn render_inline(&self, template: &str, context: &Value) -> Result<String, RenderError> {
        // Only blocks and partials can recurse: measure those (config checked them already,
        // but a stack overflow aborts the process, so this is not left to the caller).
        if template.contains("{{") && (template.contains('#') || template.contains('>')) {
            self.check_inline(template)?;
        }
        // Compiled on every call: inline templates are short and rendered once per delivery.
        self.text
            .render_template(template, context)
            .map_err(|e| self.describe(None, &e))
    }

    fn check_inline(&self, template: &str) -> Result<(), RenderError> {
        let compiled = Template::compile(template).map_err(|e| {
            let message = match syntax::explain(template) {
                Some(found) => format!(
                    "line {}, column {}: {}",
                    found.line, found.column, found.message
                ),
                None => syntax_message(&e),
            };
            RenderError(format!("inline template: {message}"))
        })?;
        let path = Path::new("inline template");
        self.check_shape(&[Body {
            path,
            template: &compiled,
        }])
        .map_err(|e| RenderError(e.to_string()))
    }
}

/// A parse error as "line L, column C: reason", without handlebars' multi-line excerpt
/// or its grammar words.
fn syntax_message(e: &TemplateError) -> String {
    let reason = syntax::plain_parser_message(&e.reason().to_string());
    match e.pos() {
        Some((line, column)) => format!("line {line}, column {column}: {reason}"),
        None => reason,
    }
}

/// Folds a rendered subject onto one line.
fn one_line(rendered: &str) -> String {
    rendered
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A strict registry with herald's helpers; `escape_html` picks HTML escaping or none.
fn new_registry(escape_html: bool) -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    if !escape_html {
        registry.register_escape_fn(handlebars::no_escape);
    }
    for (name, helper) in HELPERS {
        registry.register_helper(name, Box::new(FnHelper(helper)));
    }
    registry
}
