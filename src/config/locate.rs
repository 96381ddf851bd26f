//! Where in the file a problem is: byte spans and dotted keys turned into lines, and
//! the [`Collector`] validation reports into.

use std::ops::Range;

use herald_plugin_api::{expand_env, ConfigIssue, Env};
use toml::Spanned;

use super::Issue;

/// Where the issues found so far go, with the text to turn spans into lines.
pub(super) struct Collector<'a> {
    pub(super) text: &'a str,
    pub(super) issues: Vec<Issue>,
}

impl Collector<'_> {
    pub(super) fn at(
        &mut self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        let line = line_of(self.text, span.start);
        self.issues.push(Issue {
            line: Some(line),
            key: key.into(),
            message: message.into(),
        });
    }

    pub(super) fn unplaced(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            line: None,
            key: key.into(),
            message: message.into(),
        });
    }

    /// A plugin's own issue: its key names a table, so find that table's line.
    pub(super) fn plugin_issue(&mut self, issue: ConfigIssue) {
        let line = locate_key(self.text, &issue.key);
        self.issues.push(Issue {
            line,
            key: issue.key,
            message: issue.message,
        });
    }

    pub(super) fn expand(
        &mut self,
        value: &Spanned<String>,
        key: &str,
        env: &dyn Env,
    ) -> Option<String> {
        match expand_env(value.get_ref(), env) {
            Ok(expanded) => Some(expanded),
            Err(err) => {
                self.at(value.span(), key, err.to_string());
                None
            }
        }
    }
}

/// The 1-based line holding byte `offset`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Finds the line of a dotted key such as `plugins.email.mailer.host`: the line
/// of `host = …` inside `[plugins.email.mailer]`, or the table header itself.
fn locate_key(text: &str, key: &str) -> Option<usize> {
    let (table, field) = key.rsplit_once('.')?;
    let header = format!("[{table}]");
    let mut in_table = false;
    let mut header_line = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if in_table {
                break;
            }
            in_table = trimmed.replace(' ', "") == header;
            if in_table {
                header_line = Some(index + 1);
            }
        } else if in_table {
            let name = trimmed.split('=').next().unwrap_or("").trim();
            if name == field {
                return Some(index + 1);
            }
        }
    }
    header_line.or_else(|| locate_key(text, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn locate_key_finds_the_field_inside_its_table() {
        let text = "[server]\nlisten = 1\n\n[plugins.email.mailer]\nfrom = 2\nhost = 3\n";
        assert_eq!(locate_key(text, "plugins.email.mailer.host"), Some(6));
        assert_eq!(locate_key(text, "plugins.email.mailer.port"), Some(4));
        assert_eq!(locate_key(text, "plugins.email.other.port"), None);
    }
}
