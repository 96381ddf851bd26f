//! [`Issues`]: the problems one validation finds, each at its dotted key.
//!
//! Every plugin kind collects its config and action problems here, so herald can
//! report all of them at once, each at its line.

use crate::config::ConfigIssue;

/// Problems found under one key (`plugins.email.mailer`, or a rule's action).
///
/// A field's problem is kept at `<key>.<field>`; herald finds that line in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issues {
    key: String,
    list: Vec<ConfigIssue>,
}

impl Issues {
    /// An empty collector for problems under `key`.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            list: Vec::new(),
        }
    }

    /// The key problems are collected under.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A problem at `<key>.<field>`; `field` may itself be dotted (`retry.max_attempts`).
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.list
            .push(ConfigIssue::new(format!("{}.{field}", self.key), message));
    }

    /// A problem at the key itself, such as an action's parameters as a whole.
    pub fn push_here(&mut self, message: impl Into<String>) {
        self.list.push(ConfigIssue::new(self.key.clone(), message));
    }

    /// Adds problems that were collected elsewhere, keys unchanged.
    pub fn extend(&mut self, other: impl IntoIterator<Item = ConfigIssue>) {
        self.list.extend(other);
    }

    /// `Ok(value())` when nothing was found, else every problem.
    ///
    /// # Errors
    /// `self`, when it holds a problem.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, Self> {
        if !self.is_empty() {
            return Err(self);
        }
        match value() {
            Some(value) => Ok(value),
            // A part that failed without saying why would be a bug; say so rather than
            // accept a config that is missing a piece.
            None => {
                let mut issues = self;
                issues.push_here("is incomplete");
                Err(issues)
            }
        }
    }
}

/// Read as the list of problems: `issues.len()`, `issues[0].message`, `issues.iter()`.
impl std::ops::Deref for Issues {
    type Target = [ConfigIssue];

    fn deref(&self) -> &[ConfigIssue] {
        &self.list
    }
}

impl IntoIterator for Issues {
    type Item = ConfigIssue;
    type IntoIter = std::vec::IntoIter<ConfigIssue>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}

impl<'a> IntoIterator for &'a Issues {
    type Item = &'a ConfigIssue;
    type IntoIter = std::slice::Iter<'a, ConfigIssue>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_kept_under_the_key() {
        let mut issues = Issues::new("plugins.email.mailer");
        issues.push("host", "required");
        issues.push_here("whole");
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["plugins.email.mailer.host", "plugins.email.mailer"]);
    }

    #[test]
    fn finish_is_ok_only_without_problems() {
        assert_eq!(Issues::new("k").finish(|| Some(1)), Ok(1));
        let mut issues = Issues::new("k");
        issues.push("a", "bad");
        assert_eq!(issues.finish(|| Some(1)).map_err(|i| i.len()), Err(1));
        let incomplete = Issues::new("k")
            .finish(|| None::<u8>)
            .expect_err("incomplete");
        assert_eq!(incomplete.len(), 1);
    }
}
