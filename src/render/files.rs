//! Reading the templates folder: which files count, parsing them, and checking that
//! every partial they name exists, so a typo fails at load time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use handlebars::template::{Parameter, TemplateElement};
use handlebars::Template;
use serde_json::Value;

use super::LoadError;

/// Whether `name` is usable as a set or partial name (see the module docs).
pub(super) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(super) fn invalid(path: &Path, message: &str) -> LoadError {
    LoadError::Invalid {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

/// The `.hbs` files of `dir` (not dotfiles, not folders) with their names, sorted so that
/// load errors come in a stable order.
pub(super) fn list_hbs(dir: &Path) -> Result<Vec<(PathBuf, String)>, LoadError> {
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
        if file_name.starts_with('.')
            || path.extension().is_none_or(|ext| ext != "hbs")
            || !path.is_file()
        {
            continue;
        }
        let file_name = file_name.to_owned();
        files.push((path, file_name));
    }
    files.sort();
    Ok(files)
}

/// Reads and parses one template file; `name` is what error messages will call it.
pub(super) fn compile(path: &Path, name: &str) -> Result<Template, LoadError> {
    let source = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    compile_text(path, name, &source)
}

/// Parses `source`, the text of (or meant for) the file at `path`.
pub(super) fn compile_text(path: &Path, name: &str, source: &str) -> Result<Template, LoadError> {
    Template::compile_with_name(source, name.to_owned()).map_err(|e| {
        let reason = e.reason().to_string();
        if let Some(nesting) = super::shape::parser_gave_up(&reason) {
            let (line, column) = e.pos().unwrap_or((1, 1));
            return LoadError::Syntax {
                path: path.to_owned(),
                line,
                column,
                message: nesting,
            };
        }
        if let Some(explained) = super::syntax::explain(source) {
            return LoadError::Syntax {
                path: path.to_owned(),
                line: explained.line,
                column: explained.column,
                message: explained.message,
            };
        }
        match e.pos() {
            Some((line, column)) => LoadError::Syntax {
                path: path.to_owned(),
                line,
                column,
                message: super::syntax::plain_parser_message(&reason),
            },
            None => invalid(path, &super::syntax::plain_parser_message(&reason)),
        }
    })
}

/// Fails on a `{{> name}}` or `{{#> name}}` naming no partial file nor inline partial, so a
/// typo is caught at start-up. Dynamic names and `@partial-block` cannot be checked.
pub(super) fn check_partials(
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
