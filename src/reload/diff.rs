//! What a reload changed, for its log line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::plugins::PluginSpec;
use crate::rules::Rules;

/// What one reload changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub rules_added: Vec<String>,
    pub rules_removed: Vec<String>,
    pub rules_changed: Vec<String>,
    /// Template files added, removed or edited, relative to the templates folder.
    pub templates_changed: Vec<String>,
    pub plugins_added: Vec<String>,
    pub plugins_removed: Vec<String>,
    /// Whether `[shop]` changed.
    pub shop_changed: bool,
    /// Restart-only settings that changed, by key: not applied.
    pub restart_only: Vec<&'static str>,
}

impl Changes {
    /// What changed between `old` and `new`, whose template files are as listed.
    pub fn between(old: &Config, new: &Config, old_files: &Files, new_files: &Files) -> Self {
        let (was, is) = (&old.reloadable, &new.reloadable);
        let (rules_added, rules_removed, rules_changed) = rule_changes(&was.rules, &is.rules);
        let old_plugins: BTreeSet<&str> = was.plugins.iter().map(PluginSpec::name).collect();
        let new_plugins: BTreeSet<&str> = is.plugins.iter().map(PluginSpec::name).collect();
        Self {
            rules_added,
            rules_removed,
            rules_changed,
            templates_changed: old_files.changed(new_files),
            plugins_added: names(new_plugins.difference(&old_plugins)),
            plugins_removed: names(old_plugins.difference(&new_plugins)),
            shop_changed: was.shop != is.shop,
            restart_only: old.restart.changed(&new.restart),
        }
    }

    /// Whether nothing that a reload applies changed.
    pub fn is_empty(&self) -> bool {
        Self {
            restart_only: Vec::new(),
            ..self.clone()
        } == Self::default()
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("nothing changed");
        }
        let parts = [
            ("rules added", &self.rules_added),
            ("rules removed", &self.rules_removed),
            ("rules changed", &self.rules_changed),
            ("templates changed", &self.templates_changed),
            ("plugin instances added", &self.plugins_added),
            ("plugin instances removed", &self.plugins_removed),
        ];
        let mut first = true;
        for (label, list) in parts.iter().filter(|(_, list)| !list.is_empty()) {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{label}: {}", list.join(", "))?;
        }
        if self.shop_changed {
            if !first {
                f.write_str("; ")?;
            }
            f.write_str("[shop] changed")?;
        }
        Ok(())
    }
}

fn names<'a>(names: impl Iterator<Item = &'a &'a str>) -> Vec<String> {
    names.map(|name| (*name).to_owned()).collect()
}

/// Rules added, removed, and kept under their name but different.
fn rule_changes(old: &Rules, new: &Rules) -> (Vec<String>, Vec<String>, Vec<String>) {
    let old: BTreeMap<&str, String> = old.iter().map(|r| (r.name(), fingerprint(r))).collect();
    let new: BTreeMap<&str, String> = new.iter().map(|r| (r.name(), fingerprint(r))).collect();
    let added = new.keys().filter(|name| !old.contains_key(*name));
    let removed = old.keys().filter(|name| !new.contains_key(*name));
    let changed = new
        .iter()
        .filter(|(name, print)| old.get(*name).is_some_and(|old| old != *print));
    (
        added.map(|name| (*name).to_owned()).collect(),
        removed.map(|name| (*name).to_owned()).collect(),
        changed.map(|(name, _)| (*name).to_owned()).collect(),
    )
}

/// A rule as text, without the config lines its actions were read from, so a
/// rule that only moved in the file is not reported as changed.
fn fingerprint(rule: &crate::rules::Rule) -> String {
    without_lines(&format!("{rule:?}"))
}

/// `text` without its `line: Some(…)` fields.
fn without_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("line: Some(") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        rest = tail.find(')').map_or("", |end| &tail[end + 1..]);
    }
    out.push_str(rest);
    out
}

/// Whether `path` is a file the template loader reads: `.hbs`, not a dotfile. The
/// editor's `.bak` copies and temporary files, and an editor's swap files, are not.
pub fn is_template_file(path: &Path) -> bool {
    let dotfile = path
        .file_name()
        .and_then(|name| name.to_str())
        .is_none_or(|name| name.starts_with('.'));
    // As the loader reads them: the extension exactly `hbs`.
    !dotfile && path.extension().is_some_and(|ext| ext == "hbs")
}

/// The files under a templates folder, each with a hash of its content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files(BTreeMap<PathBuf, u64>);

impl Files {
    /// Reads every template file under `dir` (what [`is_template_file`] admits); one
    /// that cannot be read is left out (the template load reports it).
    pub fn read(dir: &Path) -> Self {
        let mut files = BTreeMap::new();
        let mut folders = vec![dir.to_owned()];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else if !is_template_file(&path) {
                    continue;
                } else if let Ok(bytes) = std::fs::read(&path) {
                    let mut hasher = DefaultHasher::new();
                    bytes.hash(&mut hasher);
                    let name = path.strip_prefix(dir).unwrap_or(&path).to_owned();
                    files.insert(name, hasher.finish());
                }
            }
        }
        Self(files)
    }

    /// The files added, removed or edited in `new`.
    fn changed(&self, new: &Files) -> Vec<String> {
        let names: BTreeSet<&PathBuf> = self.0.keys().chain(new.0.keys()).collect();
        names
            .into_iter()
            .filter(|name| self.0.get(*name) != new.0.get(*name))
            .map(|name| name.display().to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_that_only_moved_has_the_same_fingerprint() {
        let text =
            "Rule { name: \"a\", actions: [Action { line: Some(12) }, Action { line: Some(3) }] }";
        let moved = text.replace("12", "40").replace("Some(3)", "Some(9)");
        let strip = without_lines;
        assert_eq!(strip(text), strip(&moved));
        assert_eq!(
            strip(text),
            "Rule { name: \"a\", actions: [Action {  }, Action {  }] }"
        );
    }

    /// The console's save writes `<file>.bak` and a dotfile beside the template; they
    /// were listed as "templates changed" after every save.
    #[test]
    fn backups_and_dotfiles_are_not_template_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt.hbs"), "a").unwrap();
        let before = Files::read(dir.path());
        std::fs::write(dir.path().join("a.txt.hbs.bak"), "old").unwrap();
        std::fs::write(dir.path().join(".a.txt.hbs.1234.saving"), "x").unwrap();
        std::fs::write(dir.path().join(".a.txt.hbs.swp"), "x").unwrap();
        assert_eq!(
            before.changed(&Files::read(dir.path())),
            Vec::<String>::new()
        );
        std::fs::write(dir.path().join("a.txt.hbs"), "b").unwrap();
        assert_eq!(before.changed(&Files::read(dir.path())), ["a.txt.hbs"]);
    }

    #[test]
    fn changes_read_as_one_line() {
        let changes = Changes {
            rules_added: vec!["refund-thanks".to_owned()],
            rules_changed: vec!["payment-confirmation".to_owned()],
            templates_changed: vec!["refund_thanks.subject.hbs".to_owned()],
            plugins_removed: vec!["texts".to_owned()],
            shop_changed: true,
            restart_only: vec!["server.listen"],
            ..Changes::default()
        };
        assert_eq!(
            changes.to_string(),
            "rules added: refund-thanks; rules changed: payment-confirmation; \
             templates changed: refund_thanks.subject.hbs; plugin instances removed: texts; \
             [shop] changed"
        );
        let only_restart = Changes {
            restart_only: vec!["server.listen"],
            ..Changes::default()
        };
        assert!(only_restart.is_empty());
        assert_eq!(only_restart.to_string(), "nothing changed");
    }
}
