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
//!   (`money`, `date`, `upper`, `lower`) fail naming the path; handlebars' own `eq`, `len`,
//!   `lookup`… fail too. `null` arguments are also errors in herald's helpers: guard optional
//!   values with `{{#if}}` (use `includeZero=true` for amounts that may be 0).
//! * Hash arguments of a partial become context fields for it, so a layout that reads
//!   `{{title}}` needs every caller to pass `title=…`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use chrono::DateTime;
use handlebars::template::{Parameter, TemplateElement};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, RenderContext, RenderErrorReason, ScopedJson, Template,
    TemplateError,
};
use herald_plugin_api::{RenderError, TemplatePart, Templates};
use serde_json::Value;

/// herald's template registry, loaded once at start-up from the templates folder.
#[derive(Debug)]
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
        let mut message = match file {
            Some(file) => self.dir.join(file).display().to_string(),
            None => "inline template".to_owned(),
        };
        // An error inside a partial carries the partial's name, not the file rendered.
        if let Some(name) = e
            .template_name
            .as_deref()
            .filter(|name| Some(*name) != file)
        {
            let partial = self.dir.join("partials").join(format!("{name}.hbs"));
            let _ = write!(message, ": in {}", partial.display());
        }
        if let (Some(line), Some(column)) = (e.line_no, e.column_no) {
            let _ = write!(message, " line {line}, column {column}");
        }
        RenderError(format!("{message}: {what}"))
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

    fn render_inline(&self, template: &str, context: &Value) -> Result<String, RenderError> {
        // Compiled on every call: inline templates are short and rendered once per delivery.
        self.text
            .render_template(template, context)
            .map_err(|e| self.describe(None, &e))
    }

    fn check_inline(&self, template: &str) -> Result<(), RenderError> {
        Template::compile(template)
            .map(drop)
            .map_err(|e| RenderError(format!("inline template: {}", syntax_message(&e))))
    }
}

/// A parse error as "line L, column C: reason", without handlebars' multi-line excerpt.
fn syntax_message(e: &TemplateError) -> String {
    match e.pos() {
        Some((line, column)) => format!("line {line}, column {column}: {}", e.reason()),
        None => e.reason().to_string(),
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

/// Whether `name` is usable as a set or partial name (see the module docs).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn invalid(path: &Path, message: &str) -> LoadError {
    LoadError::Invalid {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

/// The `.hbs` files of `dir` (not dotfiles, not folders) with their names, sorted so that
/// load errors come in a stable order.
fn list_hbs(dir: &Path) -> Result<Vec<(PathBuf, String)>, LoadError> {
    let io_error = |source| LoadError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if file_name.starts_with('.') || !file_name.ends_with(".hbs") || !path.is_file() {
            continue;
        }
        let file_name = file_name.to_owned();
        files.push((path, file_name));
    }
    files.sort();
    Ok(files)
}

/// Reads and parses one template file; `name` is what error messages will call it.
fn compile(path: &Path, name: &str) -> Result<Template, LoadError> {
    let source = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    Template::compile_with_name(&source, name.to_owned()).map_err(|e| match e.pos() {
        Some((line, column)) => LoadError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: e.reason().to_string(),
        },
        None => invalid(path, &e.reason().to_string()),
    })
}

/// Fails on a `{{> name}}` or `{{#> name}}` naming no partial file nor inline partial, so a
/// typo is caught at start-up. Dynamic names and `@partial-block` cannot be checked.
fn check_partials(
    path: &Path,
    template: &Template,
    known: &BTreeSet<String>,
) -> Result<(), LoadError> {
    let mut inline = BTreeSet::new();
    let mut used = Vec::new();
    visit(template, &mut |element| match element {
        TemplateElement::DecoratorBlock(d) | TemplateElement::DecoratorExpression(d)
            if d.name.as_name() == Some("inline") =>
        {
            if let Some(Parameter::Literal(Value::String(name))) = d.params.first() {
                inline.insert(name.clone());
            }
        }
        TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => {
            if let Some(name) = d.name.as_name() {
                used.push(name.to_owned());
            }
        }
        _ => {}
    });
    match used
        .iter()
        .find(|n| !n.starts_with('@') && !known.contains(*n) && !inline.contains(*n))
    {
        Some(name) => Err(invalid(
            path,
            &format!("unknown partial `{name}`: no partials/{name}.hbs"),
        )),
        None => Ok(()),
    }
}

/// Calls `f` on every element of `template`, nested blocks included.
fn visit(template: &Template, f: &mut dyn FnMut(&TemplateElement)) {
    for element in &template.elements {
        f(element);
        let (inner, inverse) = match element {
            TemplateElement::HelperBlock(h) => (h.template.as_ref(), h.inverse.as_ref()),
            TemplateElement::DecoratorBlock(d) | TemplateElement::PartialBlock(d) => {
                (d.template.as_ref(), None)
            }
            _ => (None, None),
        };
        for nested in [inner, inverse].into_iter().flatten() {
            visit(nested, f);
        }
    }
}

// ---- helpers ---------------------------------------------------------------------------

/// A helper as a plain function of its arguments; the error is the message shown.
type HelperFn = fn(&Helper<'_>) -> Result<Value, String>;

const HELPERS: [(&str, HelperFn); 4] = [
    ("money", money),
    ("date", date),
    ("upper", upper),
    ("lower", lower),
];

/// Adapts a [`HelperFn`] to handlebars.
struct FnHelper(HelperFn);

impl HelperDef for FnHelper {
    // `call_inner` (not `call`) so handlebars escapes the result in HTML and the helpers also
    // work as subexpressions: `{{upper (money amount currency)}}`.
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, handlebars::RenderError> {
        (self.0)(h)
            .map(ScopedJson::Derived)
            .map_err(|message| RenderErrorReason::Other(message).into())
    }
}

/// Checks the argument count, so `{{money amount}}` fails instead of guessing.
fn arity(h: &Helper<'_>, min: usize, max: usize, usage: &str) -> Result<(), String> {
    let n = h.params().len();
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(format!("{} takes {usage}, got {n} argument(s)", h.name()))
    }
}

/// Argument `idx`; a key absent from the data is named in the error (strict mode).
fn arg<'a>(h: &'a Helper<'_>, idx: usize, what: &str) -> Result<&'a Value, String> {
    let param = h
        .param(idx)
        .ok_or_else(|| format!("{}: no {what} given", h.name()))?;
    if param.is_value_missing() {
        let path = param.relative_path().map_or("?", String::as_str);
        return Err(format!(
            "{}: {what} `{path}` is not in the data (strict mode)",
            h.name()
        ));
    }
    Ok(param.value())
}

/// `{{money amount currency}}`: minor units (as Stripe sends them) to a human amount.
fn money(h: &Helper<'_>) -> Result<Value, String> {
    arity(h, 2, 2, "an amount in minor units and a currency code")?;
    let amount = arg(h, 0, "amount")?;
    let amount = amount.as_i64().ok_or_else(|| {
        format!("money: the amount must be a whole number of minor units (4998 for 49.98), got {amount}")
    })?;
    let currency = arg(h, 1, "currency")?;
    let currency = currency.as_str().ok_or_else(|| {
        format!("money: the currency must be a code like \"usd\", got {currency}")
    })?;
    format_money(amount, currency).map(Value::String)
}

/// Stripe's zero-decimal currencies: the amount is already in whole units.
const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Stripe's three-decimal currencies.
const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// `4998, "usd"` → `$49.98`; symbols for USD, EUR, GBP and JPY, which readers recognise
/// unambiguously; any other code follows the number (`49.98 CHF`, `5000 KRW`). No thousands
/// separators, whose style varies by locale. ISK, HUF and TWD stay two-decimal, as Stripe's
/// API counts them.
fn format_money(amount: i64, currency: &str) -> Result<String, String> {
    let code = currency.to_ascii_uppercase();
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "money: {currency:?} is not a currency code like \"usd\""
        ));
    }
    let decimals = if ZERO_DECIMAL.contains(&code.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&code.as_str()) {
        3
    } else {
        2
    };
    let sign = if amount < 0 { "-" } else { "" };
    // unsigned_abs: i64::MIN has no positive i64 counterpart.
    let units = amount.unsigned_abs();
    let number = match decimals {
        0 => units.to_string(),
        d => {
            let scale = 10u64.pow(d);
            format!(
                "{}.{:0width$}",
                units / scale,
                units % scale,
                width = d as usize
            )
        }
    };
    let symbol = match code.as_str() {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        _ => None,
    };
    Ok(match symbol {
        Some(symbol) => format!("{sign}{symbol}{number}"),
        None => format!("{sign}{number} {code}"),
    })
}

/// The format `{{date created}}` uses when none is given.
const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d %H:%M UTC";

/// `{{date unix_seconds [format]}}`: a Unix time in UTC, with a chrono strftime format.
fn date(h: &Helper<'_>) -> Result<Value, String> {
    arity(h, 1, 2, "a Unix time in seconds and an optional format")?;
    let seconds = arg(h, 0, "time")?;
    let seconds = seconds
        .as_i64()
        .ok_or_else(|| format!("date: the time must be whole Unix seconds, got {seconds}"))?;
    let format = match h.params().len() {
        2 => {
            let format = arg(h, 1, "format")?;
            format
                .as_str()
                .ok_or_else(|| format!("date: the format must be a string, got {format}"))?
        }
        _ => DEFAULT_DATE_FORMAT,
    };
    let time = DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| format!("date: {seconds} is out of range"))?;
    let mut out = String::new();
    // chrono reports an invalid specifier as a fmt::Error here; `to_string()` would panic.
    write!(out, "{}", time.format(format))
        .map_err(|_| format!("date: invalid format {format:?} (see chrono's strftime)"))?;
    Ok(Value::String(out))
}

/// `{{upper text}}`.
fn upper(h: &Helper<'_>) -> Result<Value, String> {
    string_arg(h).map(|s| Value::String(s.to_uppercase()))
}

/// `{{lower text}}`.
fn lower(h: &Helper<'_>) -> Result<Value, String> {
    string_arg(h).map(|s| Value::String(s.to_lowercase()))
}

/// The single string argument of `upper` and `lower`.
fn string_arg<'a>(h: &'a Helper<'_>) -> Result<&'a str, String> {
    arity(h, 1, 1, "one string")?;
    let value = arg(h, 0, "text")?;
    value
        .as_str()
        .ok_or_else(|| format!("{} takes a string, got {value}", h.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_plugin_api::{Customer, Event};
    use serde_json::json;
    use std::fs;

    /// The shipped templates and the Stripe fixtures, relative to the crate root.
    const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stripe");

    /// A renderer over no files: enough for helpers and inline templates.
    fn empty() -> (tempfile::TempDir, Renderer) {
        let dir = tempfile::tempdir().unwrap();
        let renderer = Renderer::load(dir.path()).unwrap();
        (dir, renderer)
    }

    fn inline(template: &str, context: &Value) -> Result<String, RenderError> {
        empty().1.render_inline(template, context)
    }

    fn money_of(amount: Value, currency: &str) -> Result<String, RenderError> {
        inline("{{money a c}}", &json!({"a": amount, "c": currency}))
    }

    /// Writes `files` (path → content) under `<tmp>/templates` and loads it.
    fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Renderer, LoadError>) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("templates");
        fs::create_dir_all(dir.join("partials")).unwrap();
        for (path, content) in files {
            fs::write(dir.join(path), content).unwrap();
        }
        let loaded = Renderer::load(&dir);
        (tmp, loaded)
    }

    #[test]
    fn money_uses_symbols_for_usd_eur_gbp_jpy() {
        assert_eq!(money_of(json!(4998), "usd").unwrap(), "$49.98");
        assert_eq!(money_of(json!(4998), "eur").unwrap(), "€49.98");
        assert_eq!(money_of(json!(4998), "gbp").unwrap(), "£49.98");
        assert_eq!(money_of(json!(4998), "USD").unwrap(), "$49.98");
        assert_eq!(money_of(json!(5000), "jpy").unwrap(), "¥5000");
        assert_eq!(money_of(json!(5), "usd").unwrap(), "$0.05");
        assert_eq!(money_of(json!(0), "usd").unwrap(), "$0.00");
        assert_eq!(money_of(json!(123456789), "usd").unwrap(), "$1234567.89");
    }

    #[test]
    fn money_puts_other_codes_after_the_number() {
        assert_eq!(money_of(json!(4998), "chf").unwrap(), "49.98 CHF");
        assert_eq!(money_of(json!(5000), "krw").unwrap(), "5000 KRW");
        assert_eq!(money_of(json!(5000), "vnd").unwrap(), "5000 VND");
        assert_eq!(money_of(json!(5000), "clp").unwrap(), "5000 CLP");
        assert_eq!(money_of(json!(12340), "bhd").unwrap(), "12.340 BHD");
        // ISK is two-decimal in Stripe's API.
        assert_eq!(money_of(json!(500), "isk").unwrap(), "5.00 ISK");
    }

    #[test]
    fn money_formats_negative_amounts() {
        assert_eq!(money_of(json!(-4998), "usd").unwrap(), "-$49.98");
        assert_eq!(money_of(json!(-5), "eur").unwrap(), "-€0.05");
        assert_eq!(money_of(json!(-4998), "chf").unwrap(), "-49.98 CHF");
        assert_eq!(money_of(json!(-5000), "jpy").unwrap(), "-¥5000");
        assert_eq!(
            money_of(json!(i64::MIN), "usd").unwrap(),
            "-$92233720368547758.08"
        );
    }

    #[test]
    fn money_rejects_bad_arguments_with_an_error() {
        for (amount, currency) in [
            (json!(49.98), json!("usd")),
            (json!("4998"), json!("usd")),
            (json!(null), json!("usd")),
            (json!(u64::MAX), json!("usd")),
            (json!(4998), json!(null)),
            (json!(4998), json!(840)),
            (json!(4998), json!("dollars")),
            (json!(4998), json!("")),
        ] {
            let result = inline("{{money a c}}", &json!({"a": amount, "c": currency}));
            let message = result.unwrap_err().0;
            assert!(message.contains("money"), "{message}");
        }
        let missing = inline("{{money amount currency}}", &json!({"currency": "usd"})).unwrap_err();
        assert!(
            missing.0.contains("`amount` is not in the data"),
            "{missing}"
        );
        let arity = inline("{{money amount}}", &json!({"amount": 1})).unwrap_err();
        assert!(arity.0.contains("money takes"), "{arity}");
    }

    #[test]
    fn date_formats_unix_seconds_in_utc() {
        let context = json!({"t": 1789927243, "old": -86400, "f": "%d %B %Y"});
        assert_eq!(
            inline("{{date t}}", &context).unwrap(),
            "2026-09-20 18:00 UTC"
        );
        assert_eq!(
            inline("{{date t f}}", &context).unwrap(),
            "20 September 2026"
        );
        assert_eq!(
            inline("{{date t \"%H:%M:%S\"}}", &context).unwrap(),
            "18:00:43"
        );
        assert_eq!(
            inline("{{date old}}", &context).unwrap(),
            "1969-12-31 00:00 UTC"
        );
    }

    #[test]
    fn date_rejects_bad_input_with_an_error() {
        for (template, context) in [
            ("{{date t}}", json!({"t": i64::MAX})),
            ("{{date t}}", json!({"t": "1789927243"})),
            ("{{date t}}", json!({"t": 1.5})),
            ("{{date t}}", json!({"t": null})),
            ("{{date t}}", json!({})),
            ("{{date t \"%Q\"}}", json!({"t": 0})),
            ("{{date t \"%\"}}", json!({"t": 0})),
            ("{{date t 3}}", json!({"t": 0})),
            ("{{date}}", json!({})),
        ] {
            let message = inline(template, &context).unwrap_err().0;
            assert!(message.contains("date"), "{template}: {message}");
        }
    }

    #[test]
    fn upper_and_lower_change_case_of_strings_only() {
        let context = json!({"s": "Straße Ünd", "n": 5, "z": null});
        assert_eq!(inline("{{upper s}}", &context).unwrap(), "STRASSE ÜND");
        assert_eq!(inline("{{lower s}}", &context).unwrap(), "straße ünd");
        for template in [
            "{{upper n}}",
            "{{lower z}}",
            "{{upper missing}}",
            "{{lower s s}}",
        ] {
            assert!(inline(template, &context).is_err(), "{template}");
        }
        // Helpers compose as subexpressions.
        let money = json!({"a": 4998, "c": "chf"});
        assert_eq!(
            inline("{{lower (money a c)}}", &money).unwrap(),
            "49.98 chf"
        );
    }

    #[test]
    fn strict_mode_names_a_missing_field() {
        let context = json!({"customer": {"name": null}});
        let error = inline("Hi {{customer.nmae}}", &context).unwrap_err();
        assert!(
            error.0.contains("`customer.nmae` is not in the data"),
            "{error}"
        );
        assert!(error.0.contains("line 1, column 4"), "{error}");
        // Present but null is not missing: it renders empty.
        assert_eq!(inline("[{{customer.name}}]", &context).unwrap(), "[]");
    }

    #[test]
    fn if_on_a_missing_or_null_field_takes_the_else_branch() {
        let template = "{{#if customer.name}}Hi {{customer.name}}{{else}}Hello{{/if}}";
        for (context, expected) in [
            (json!({"customer": {"name": "Jenny"}}), "Hi Jenny"),
            (json!({"customer": {"name": null}}), "Hello"),
            (json!({"customer": {}}), "Hello"),
            (json!({"customer": null}), "Hello"),
            (json!({}), "Hello"),
        ] {
            assert_eq!(inline(template, &context).unwrap(), expected, "{context}");
        }
        let context = json!({"a": 0});
        assert_eq!(
            inline("{{#unless b.c}}none{{/unless}}", &context).unwrap(),
            "none"
        );
        assert_eq!(
            inline("{{#with b}}x{{else}}none{{/with}}", &context).unwrap(),
            "none"
        );
        assert_eq!(
            inline("{{#each b}}x{{else}}none{{/each}}", &context).unwrap(),
            "none"
        );
        let zero = "{{#if a includeZero=true}}{{a}}{{/if}}";
        assert_eq!(inline(zero, &context).unwrap(), "0");
    }

    #[test]
    fn with_and_each_on_missing_data_need_an_else_in_strict_mode() {
        let context = json!({"a": null, "list": []});
        for template in [
            "{{#with a}}x{{/with}}",
            "{{#with b}}x{{/with}}",
            "{{#each b}}x{{/each}}",
        ] {
            assert!(inline(template, &context).is_err(), "{template}");
        }
        for template in [
            "{{#with a}}x{{else}}{{/with}}",
            "{{#each b}}x{{else}}{{/each}}",
        ] {
            assert_eq!(inline(template, &context).unwrap(), "", "{template}");
        }
        assert_eq!(inline("{{#each list}}x{{/each}}", &context).unwrap(), "");
    }

    #[test]
    fn loads_sets_and_partials_and_escapes_only_html() {
        let (_tmp, loaded) = load(&[
            ("hello.subject.hbs", "Hi {{shop.name}}\n"),
            (
                "hello.html.hbs",
                "{{#> frame}}<b>{{shop.name}}</b> {{upper shop.name}}{{/frame}}",
            ),
            (
                "hello.txt.hbs",
                "{{shop.name}} {{money amount currency}}\n{{> sign}}",
            ),
            ("bye.txt.hbs", "Bye {{> sign}}"),
            ("partials/frame.hbs", "<main>{{> @partial-block}}</main>"),
            ("partials/sign.hbs", "-- {{shop.name}}"),
            ("README.md", "ignored"),
            (".hello.html.hbs.swp", "ignored"),
        ]);
        let renderer = loaded.unwrap();
        assert_eq!(renderer.names(), ["bye", "hello"]);
        assert!(renderer.has("hello", TemplatePart::Html));
        assert!(!renderer.has("bye", TemplatePart::Html));
        assert!(!renderer.has("sign", TemplatePart::Text));
        let context = json!({"shop": {"name": "Tom & Jerry's"}, "amount": 4998, "currency": "usd"});
        let html = renderer
            .render("hello", TemplatePart::Html, &context)
            .unwrap();
        assert_eq!(
            html,
            "<main><b>Tom &amp; Jerry&#x27;s</b> TOM &amp; JERRY&#x27;S</main>"
        );
        let text = renderer
            .render("hello", TemplatePart::Text, &context)
            .unwrap();
        assert_eq!(text, "Tom & Jerry's $49.98\n-- Tom & Jerry's");
        let subject = renderer.render("hello", TemplatePart::Subject, &context);
        assert_eq!(subject.unwrap(), "Hi Tom & Jerry's");
        let inline = renderer.render_inline("{{shop.name}} {{> sign}}", &context);
        assert_eq!(inline.unwrap(), "Tom & Jerry's -- Tom & Jerry's");
    }

    #[test]
    fn a_subject_is_folded_onto_one_line() {
        let (_tmp, loaded) = load(&[("s.subject.hbs", "\n  Hello\n  {{name}}  \n\n")]);
        let context = json!({"name": "Eve\r\nBcc: all@example.com"});
        let subject = loaded.unwrap().render("s", TemplatePart::Subject, &context);
        assert_eq!(subject.unwrap(), "Hello Eve Bcc: all@example.com");
    }

    #[test]
    fn an_unknown_template_is_an_error_naming_its_file() {
        let (_tmp, loaded) = load(&[("a.txt.hbs", "a")]);
        let renderer = loaded.unwrap();
        let error = renderer
            .render("nope", TemplatePart::Html, &json!({}))
            .unwrap_err();
        assert!(error.0.contains("templates/nope.html.hbs"), "{error}");
        let error = renderer
            .render("a", TemplatePart::Subject, &json!({}))
            .unwrap_err();
        assert!(error.0.contains("templates/a.subject.hbs"), "{error}");
    }

    #[test]
    fn render_errors_name_the_file_and_position() {
        let (_tmp, loaded) = load(&[
            ("a.txt.hbs", "line one\n  {{oops}}"),
            ("b.html.hbs", "{{#> frame}}x{{/frame}}"),
            ("partials/frame.hbs", "<p>\n{{title}}</p>"),
        ]);
        let renderer = loaded.unwrap();
        let error = renderer
            .render("a", TemplatePart::Text, &json!({}))
            .unwrap_err();
        assert!(
            error.0.contains("templates/a.txt.hbs line 2, column 3"),
            "{error}"
        );
        assert!(error.0.contains("`oops` is not in the data"), "{error}");
        let error = renderer
            .render("b", TemplatePart::Html, &json!({}))
            .unwrap_err();
        assert!(error.0.contains("html.hbs: in "), "{error}");
        assert!(
            error.0.contains("templates/partials/frame.hbs line 2"),
            "{error}"
        );
        assert!(error.0.contains("`title`"), "{error}");
        let error = renderer
            .render_inline("{{#> frame}}{{/frame}}", &json!({}))
            .unwrap_err();
        assert!(error.0.starts_with("inline template: in "), "{error}");
        assert!(
            error
                .0
                .contains("partials/frame.hbs line 2, column 1: `title`"),
            "{error}"
        );
        let error = renderer
            .render_inline("{{lookup this \"x\"}}", &json!({}))
            .unwrap_err();
        assert_eq!(
            error.0,
            "inline template line 1, column 1: a value is not in the data"
        );
    }

    #[test]
    fn a_syntax_error_names_file_line_and_column() {
        let (_tmp, loaded) = load(&[("a.html.hbs", "<p>\n{{#if x}}open")]);
        match loaded {
            Err(LoadError::Syntax { path, line, .. }) => {
                assert!(path.ends_with("templates/a.html.hbs"));
                assert_eq!(line, 2);
            }
            other => panic!("{:?}", other.map(|r| r.names())),
        }
        let (_tmp, loaded) = load(&[("partials/p.hbs", "{{oops")]);
        let message = loaded.err().unwrap().to_string();
        assert!(
            message.contains("templates/partials/p.hbs line 1, column"),
            "{message}"
        );
    }

    #[test]
    fn misnamed_files_and_unknown_partials_fail_to_load() {
        for (files, expected) in [
            (vec![("a.text.hbs", "x")], "expected <name>.subject.hbs"),
            (vec![("a.hbs", "x")], "expected <name>.subject.hbs"),
            (vec![("my mail.txt.hbs", "x")], "snake_case"),
            (vec![("partials/my.layout.hbs", "x")], "snake_case"),
            (
                vec![("a.txt.hbs", "{{> footr}}")],
                "unknown partial `footr`",
            ),
            (
                vec![("a.txt.hbs", "{{#if x}}{{#> lay}}x{{/lay}}{{/if}}")],
                "`lay`",
            ),
            (vec![("partials/p.hbs", "{{> q}}")], "unknown partial `q`"),
        ] {
            let (_tmp, loaded) = load(&files);
            let message = loaded.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(expected), "{files:?}: {message}");
        }
        // Inline partials and the partial block are not files.
        let inline = "{{#*inline \"row\"}}r{{/inline}}{{> row}}";
        let (_tmp, loaded) = load(&[
            ("a.txt.hbs", inline),
            ("partials/l.hbs", "{{> @partial-block}}"),
        ]);
        let renderer = loaded.unwrap();
        assert_eq!(
            renderer
                .render("a", TemplatePart::Text, &json!({}))
                .unwrap(),
            "r"
        );
    }

    #[test]
    fn a_missing_folder_is_an_io_error_and_partials_are_optional() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = Renderer::load(&tmp.path().join("nope"));
        assert!(matches!(missing, Err(LoadError::Io { .. })));
        fs::write(tmp.path().join("a.txt.hbs"), "a").unwrap();
        assert_eq!(Renderer::load(tmp.path()).unwrap().names(), ["a"]);
    }

    #[test]
    fn inline_templates_check_and_render_as_text() {
        let (_dir, renderer) = empty();
        assert_eq!(renderer.check_inline("{{customer.email}}"), Ok(()));
        let error = renderer.check_inline("to {{customer.email").unwrap_err();
        assert!(
            error.0.starts_with("inline template: line 1, column"),
            "{error}"
        );
        let context = json!({"customer": {"email": "a&b@example.com"}});
        let to = renderer.render_inline("{{customer.email}}", &context);
        assert_eq!(to.unwrap(), "a&b@example.com");
        let error = renderer.render_inline("{{#if}}", &context).unwrap_err();
        assert!(error.0.starts_with("inline template"), "{error}");
    }

    // ---- the shipped templates against the Stripe fixtures --------------------------------

    /// The context `Event::context()` gives for a fixture, plus `shop` and `params`.
    fn context(fixture: &str, shop_name: &str) -> Value {
        let path = format!("{FIXTURES}/{fixture}.json");
        let raw: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let object = raw["data"]["object"].clone();
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let who = ["customer_details", "billing_details", "shipping"]
            .into_iter()
            .map(|key| &object[key])
            .find(|v| v.is_object())
            .unwrap_or(&Value::Null);
        let event = Event {
            id: text(&raw["id"]).unwrap(),
            source: "stripe".to_owned(),
            kind: text(&raw["type"]).unwrap(),
            created: raw["created"].as_i64().unwrap(),
            livemode: raw["livemode"].as_bool().unwrap(),
            object_id: text(&object["id"]),
            order_id: text(&object["metadata"]["order_id"]),
            customer: Customer {
                email: text(&who["email"]).or_else(|| text(&object["receipt_email"])),
                phone: text(&who["phone"]),
                name: text(&who["name"]),
            },
            amount: object["amount"]
                .as_i64()
                .or(object["amount_total"].as_i64()),
            currency: text(&object["currency"]),
            raw,
        };
        let mut context = event.context();
        context["shop"] = json!({"name": shop_name, "support_email": "support@example.com"});
        context["params"] = json!({});
        context
    }

    /// Each shipped set, its fixture, and a phrase its text must contain.
    const SETS: [(&str, &str, &str); 5] = [
        (
            "payment_succeeded",
            "payment_intent.succeeded",
            "payment of $49.98 for order ORDER12345",
        ),
        (
            "payment_failed",
            "payment_intent.payment_failed",
            "Your card has insufficient funds.",
        ),
        (
            "refund_issued",
            "charge.refunded",
            "refunded $49.98 for order ORDER12345",
        ),
        (
            "order_confirmation",
            "checkout.session.completed",
            "510 Townsend Street",
        ),
        (
            "dispute_alert",
            "charge.dispute.created",
            "Evidence due: 2026-10-08 17:59 UTC",
        ),
    ];
    const PARTS: [TemplatePart; 3] = [
        TemplatePart::Subject,
        TemplatePart::Html,
        TemplatePart::Text,
    ];

    fn shipped() -> Renderer {
        Renderer::load(Path::new(TEMPLATES)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn shipped_templates_load_with_every_part() {
        let renderer = shipped();
        let mut names: Vec<_> = SETS.iter().map(|(name, _, _)| name.to_string()).collect();
        names.sort();
        assert_eq!(renderer.names(), names);
        for (name, _, _) in SETS {
            for part in PARTS {
                assert!(renderer.has(name, part), "{name}.{}.hbs", part.as_str());
            }
        }
    }

    #[test]
    fn shipped_templates_render_their_fixtures() {
        let renderer = shipped();
        for (name, fixture, phrase) in SETS {
            let context = context(fixture, "Example Shop");
            let render = |part| {
                renderer
                    .render(name, part, &context)
                    .unwrap_or_else(|e| panic!("{e}"))
            };
            let (subject, html, text) = (render(PARTS[0]), render(PARTS[1]), render(PARTS[2]));
            assert!(
                subject.contains("Example Shop") && !subject.contains('\n'),
                "{subject}"
            );
            for body in [&html, &text] {
                assert!(body.contains("$49.98"), "{name}: {body}");
                assert!(body.contains("Example Shop"), "{name}: {body}");
            }
            assert!(text.contains(phrase), "{name}: {text}");
            assert!(
                html.starts_with("<!DOCTYPE html>") && !text.contains("<p>"),
                "{name}"
            );
        }
    }

    #[test]
    fn shipped_templates_render_without_optional_fields() {
        let renderer = shipped();
        for (name, fixture, _) in SETS {
            let mut context = context(fixture, "Example Shop");
            context["order_id"] = Value::Null;
            context["customer"] = json!({"email": null, "phone": null, "name": null});
            context["shop"]["url"] = json!("https://shop.example.com");
            for part in PARTS {
                let out = renderer
                    .render(name, part, &context)
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(!out.contains("ORDER12345"), "{name}: {out}");
            }
            let text = renderer.render(name, TemplatePart::Text, &context).unwrap();
            assert!(
                name == "dispute_alert" || text.contains("https://shop.example.com"),
                "{name}"
            );
        }
        // A session with no shipping details nor name, a payment with no error message.
        let expired = context("checkout.session.expired", "Example Shop");
        let text = renderer
            .render("order_confirmation", TemplatePart::Text, &expired)
            .unwrap();
        assert!(
            text.starts_with("Hello,") && !text.contains("ship it to"),
            "{text}"
        );
        let succeeded = context("payment_intent.succeeded", "Example Shop");
        let text = renderer
            .render("payment_failed", TemplatePart::Text, &succeeded)
            .unwrap();
        assert!(!text.contains("Your bank said"), "{text}");
    }

    #[test]
    fn shipped_templates_escape_html_but_not_text() {
        let renderer = shipped();
        for (name, fixture, _) in SETS {
            let context = context(fixture, "Tom & Jerry's");
            let html = renderer.render(name, TemplatePart::Html, &context).unwrap();
            assert!(html.contains("Tom &amp; Jerry&#x27;s"), "{name}: {html}");
            assert!(!html.contains("Tom & Jerry"), "{name}: {html}");
            for part in [TemplatePart::Subject, TemplatePart::Text] {
                let out = renderer.render(name, part, &context).unwrap();
                assert!(
                    out.contains("Tom & Jerry's") && !out.contains("&amp;"),
                    "{name}: {out}"
                );
            }
        }
    }
}
