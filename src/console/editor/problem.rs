//! A template problem as the editor shows it: under the part it is in, at its line.

use std::path::Path;

use herald_plugin_api::TemplatePart;
use serde::Serialize;

use super::key;
use crate::render::LoadError;

/// One problem, placed where the editor can show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `subject`, `html` or `text`; `None` when it is not in one of the set's parts.
    pub part: Option<&'static str>,
    /// 1-based line and column in that part, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// What is wrong; with the file when the part and line do not say where.
    pub message: String,
}

impl Problem {
    /// A draft of set `name` that does not load.
    pub fn from_load(name: &str, err: &LoadError) -> Self {
        match err {
            LoadError::Syntax {
                path,
                line,
                column,
                message,
            } => Self {
                part: part_of(name, path),
                line: Some(*line),
                column: Some(*column),
                message: message.clone(),
            },
            LoadError::Io { path, .. } | LoadError::Invalid { path, .. } => Self {
                part: part_of(name, path),
                line: None,
                column: None,
                message: err.to_string(),
            },
        }
    }

    /// A problem rendering `part` of set `name`, as the renderer words it: its file,
    /// line and column first (`…/name.html.hbs:3:7: …`); a position in a partial is
    /// the partial's, so the line is left out.
    pub fn from_render(dir: &Path, name: &str, part: TemplatePart, message: &str) -> Self {
        let file = dir.join(format!("{name}.{}.hbs", part.as_str()));
        let prefix = format!("{}:", file.display());
        let position = message.strip_prefix(&prefix).and_then(|rest| {
            let mut fields = rest.splitn(3, ':');
            let line = fields.next()?.parse().ok()?;
            let column = fields.next()?.parse().ok()?;
            Some((line, column, fields.next()?.trim_start()))
        });
        match position {
            // The part and line say where; the message says what.
            Some((line, column, what)) => Self {
                part: Some(key(part)),
                line: Some(line),
                column: Some(column),
                message: what.to_owned(),
            },
            None => Self {
                part: Some(key(part)),
                line: None,
                column: None,
                message: message.to_owned(),
            },
        }
    }
}

/// Which part of set `name` the file at `path` is.
fn part_of(name: &str, path: &Path) -> Option<&'static str> {
    let file = path.file_name()?.to_str()?;
    let part = file.strip_prefix(name)?.strip_prefix('.')?;
    match part {
        "subject.hbs" => Some(key(TemplatePart::Subject)),
        "html.hbs" => Some(key(TemplatePart::Html)),
        "txt.hbs" => Some(key(TemplatePart::Text)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_problem_in_the_part_has_its_line_one_in_a_partial_has_none() {
        let dir = Path::new("/t");
        let own = Problem::from_render(
            dir,
            "paid",
            TemplatePart::Html,
            "/t/paid.html.hbs:3:7: `x` is not in the data (strict mode)",
        );
        assert_eq!(
            (own.part, own.line, own.column),
            (Some("html"), Some(3), Some(7))
        );
        let partial = Problem::from_render(
            dir,
            "paid",
            TemplatePart::Html,
            "/t/partials/layout.hbs:1:2: `y` is not in the data (in a partial of /t/paid.html.hbs)",
        );
        assert_eq!((partial.part, partial.line), (Some("html"), None));
    }

    #[test]
    fn a_load_problem_names_the_part_of_its_file() {
        let err = LoadError::Syntax {
            path: "/t/paid.txt.hbs".into(),
            line: 2,
            column: 1,
            message: "x".to_owned(),
        };
        let problem = Problem::from_load("paid", &err);
        assert_eq!((problem.part, problem.line), (Some("text"), Some(2)));
    }
}
