//! Configuration: read → parse → validate whole → a typed [`Config`].
//!
//! Everything a running herald needs is checked here, before the first request:
//! unknown keys, malformed patterns and conditions, plugin references, template
//! names, and `${VAR}` secrets. Every problem is reported with the file and line,
//! all of them at once, so an operator fixes the file in one pass.

mod action;
mod admin;
mod database;
mod digests;
mod followups;
mod instance;
mod locate;
mod raw;
mod restart;
mod schema;
mod server;
mod span;
mod store_only;
mod stripe;
mod token;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use herald_plugin_api::Env;

pub use self::raw::RawConfig;
pub use self::restart::{
    AdminSettings, DatabaseSettings, DispatchSettings, RestartOnly, ServerSettings, StripeSettings,
};
pub use self::span::{parse_span, NotASpan};
pub use self::store_only::StoreConfig;
use crate::plugins::PluginSpec;
use crate::render::Renderer;
use crate::rules::Rules;

/// A validated configuration, ready to build an application from: what only a
/// restart changes, and what a reload swaps in.
#[derive(Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Read once at start-up; a reload reports a change and keeps the running value.
    pub restart: RestartOnly,
    /// What a reload puts in force for the work that starts after it.
    pub reloadable: Reloadable,
}

/// The part of the config a reload swaps: rules, plugins, templates and `[shop]`.
/// Retry policies belong to their plugin instances, and so are swapped with them.
#[derive(Clone)]
pub struct Reloadable {
    /// Values every template sees under `shop`.
    pub shop: serde_json::Value,
    pub templates: Arc<Renderer>,
    pub templates_dir: PathBuf,
    pub plugins: Vec<PluginSpec>,
    pub rules: Arc<Rules>,
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid TOML; schema problems (unknown key, wrong type) are
    /// [`ConfigError::Invalid`], all of them with the rest.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// The file parsed but its values do not hold together.
    #[error("{}", Issues { path, issues })]
    Invalid { path: PathBuf, issues: Vec<Issue> },
}

/// One validation problem, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// 1-based line, when the problem can be pinned to one.
    pub line: Option<usize>,
    /// The dotted key, e.g. `rules[0].actions[1].plugin`.
    pub key: String,
    pub message: String,
}

struct Issues<'a> {
    path: &'a Path,
    issues: &'a [Issue],
}

impl fmt::Display for Issues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.issues.len();
        write!(
            f,
            "{} has {count} problem{}:",
            self.path.display(),
            if count == 1 { "" } else { "s" }
        )?;
        for issue in self.issues {
            write!(f, "\n  {}", issue.located(self.path))?;
        }
        Ok(())
    }
}

impl Issue {
    /// The problem as one entry of a list: `path:line: key: message`, what is known of it.
    pub fn located(&self, path: &Path) -> String {
        let at = self.line.map(|line| format!(":{line}")).unwrap_or_default();
        if self.key.is_empty() {
            format!("{}{at}: {}", path.display(), self.message)
        } else {
            format!("{}{at}: {}: {}", path.display(), self.key, self.message)
        }
    }
}

/// The text of the config file at `path`.
fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

impl Config {
    /// Reads, parses and validates the config file at `path`.
    ///
    /// `${VAR}` references are looked up in `env`, `${file:PATH}` ones read from
    /// the file. Relative paths in the file (database, templates, outbox, secret
    /// files) are taken from the file's folder.
    ///
    /// # Errors
    /// Every problem found, with its line.
    pub fn load(path: &Path, env: &dyn Env) -> Result<Self, ConfigError> {
        Self::from_toml(&read(path)?, path, env)
    }

    /// Parses and validates config text as if it were read from `path`.
    ///
    /// # Errors
    /// Every problem found, with its line.
    pub fn from_toml(text: &str, path: &Path, env: &dyn Env) -> Result<Self, ConfigError> {
        let invalid = |issues| ConfigError::Invalid {
            path: path.to_owned(),
            issues,
        };
        let parsed = schema::parse(text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        let Some(raw) = parsed.raw else {
            return Err(invalid(parsed.issues));
        };
        let mut issues = parsed.issues;
        let dropped = (parsed.dropped_instances.as_slice(), &parsed.deliveries);
        // `${file:…}` paths start from the config's folder, as the others in it do.
        let env = herald_plugin_api::RelativeTo::new(env, database::base_dir(path));
        match validate::validate(raw, text, path, &env, dropped) {
            Ok(config) if issues.is_empty() => Ok(config),
            Ok(_) => Err(invalid(issues)),
            Err(more) => {
                issues.extend(more);
                // Down the file, as the reader fixes it; unplaced ones last.
                issues.sort_by_key(|issue| issue.line.unwrap_or(usize::MAX));
                Err(invalid(issues))
            }
        }
    }
}

impl Config {
    /// A few lines an operator reads at start-up and from `herald check`.
    pub fn summary(&self) -> String {
        let mut lines = vec![
            format!("config: {}", self.path.display()),
            format!("database: {}", self.restart.database.display),
            format!("templates: {}", self.reloadable.templates_dir.display()),
        ];
        if self.restart.stripe.is_some() {
            lines.push("source: stripe (POST /webhooks/stripe)".to_owned());
        }
        let token = if self.restart.admin.token.is_some() {
            "[admin] token"
        } else {
            "a token made at start"
        };
        lines.push(format!(
            "admin: http://{} (API and console, signed in with {token})",
            self.restart.admin.listen
        ));
        for plugin in &self.reloadable.plugins {
            lines.push(format!("plugin: {}", plugin.describe()));
        }
        let rules: Vec<&str> = self
            .reloadable
            .rules
            .iter()
            .map(super::rules::Rule::name)
            .collect();
        lines.push(format!("rules ({}): {}", rules.len(), rules.join(", ")));
        lines.join("\n")
    }
}
