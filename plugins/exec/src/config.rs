//! One exec plugin instance's configuration: a `[plugins.exec.<name>]` table.
//!
//! This runs at start-up, before any delivery: herald deserializes an [`ExecConfig`],
//! checks it with [`PluginConfig::validate`](herald_plugin_api::PluginConfig::validate)
//! (which reports every problem in one go, so `herald check` can list them all) and hands
//! the resulting [`ValidatedExec`] to
//! [`Instance::build`](herald_plugin_api::Instance::build).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_plugin_api::{expand_env, Env, Issues, PluginConfig, ValidateContext};
use serde::Deserialize;

/// Seconds one run may take when `timeout_secs` is not set; the process is killed after it.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Runs of one command at once when `max_concurrency` is not set.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;

/// The prefix of the variables herald sets itself; configured ones would clash.
const RESERVED_ENV_PREFIX: &str = "HERALD_";

/// The raw `[plugins.exec.<name>]` table, exactly as written in `config.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecConfig {
    /// The program to run, e.g. `"plugins/exec/examples/log-order.sh"`: absolute, or
    /// relative to the config file's folder. Never looked up in `PATH`, never run by a shell.
    pub command: String,
    /// Fixed arguments, before the action's own; each may hold `${VAR}`.
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment variables; values may hold `${VAR}`, e.g. `ERP_TOKEN = "${ERP_TOKEN}"`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Seconds one run may take before the process is killed. Default 30.
    pub timeout_secs: Option<u64>,
    /// Most runs at once (herald's dispatcher enforces it). Default 4.
    pub max_concurrency: Option<usize>,
}

/// A checked configuration: every value resolved, ready for
/// [`Instance::build`](herald_plugin_api::Instance::build).
///
/// `Debug` shows environment variable names but not their values (they are often
/// credentials), so it can be logged.
#[derive(Clone, PartialEq)]
pub struct ValidatedExec {
    /// The program's absolute path; it existed and was executable at validation.
    pub command: PathBuf,
    /// The fixed arguments, `${VAR}` references expanded.
    pub args: Vec<String>,
    /// The extra environment, `${VAR}` references expanded, sorted by name.
    pub env: Vec<(String, String)>,
    /// How long one run may take before it is killed.
    pub timeout: Duration,
    /// Most runs at once.
    pub max_concurrency: usize,
}

impl fmt::Debug for ValidatedExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(name, _)| format!("{name}=<redacted>"))
            .collect();
        f.debug_struct("ValidatedExec")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &env)
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .finish()
    }
}

impl PluginConfig for ExecConfig {
    const KIND: &'static str = "exec";
    type Instance = ValidatedExec;

    /// Checks the table and resolves it; the command is taken from the config file's
    /// folder, [`ValidateContext::base_dir`].
    ///
    /// Pure apart from `env` lookups and reading the command file's metadata (to report a
    /// missing or non-executable program now rather than on the first event). Messages
    /// never quote an environment value.
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<ValidatedExec, Issues> {
        let env = cx.env;
        let mut issues = cx.issues();
        let command = check_command(&self.command, cx.base_dir)
            .map_err(|message| issues.push("command", message))
            .ok();
        let args = self.args(env, &mut issues);
        let vars = self.env(env, &mut issues);
        if self.timeout_secs == Some(0) {
            issues.push("timeout_secs", "must be at least 1");
        }
        if self.max_concurrency == Some(0) {
            issues.push("max_concurrency", "must be at least 1");
        }
        issues.finish(|| {
            Some(ValidatedExec {
                command: command?,
                args,
                env: vars,
                timeout: Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS)),
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
            })
        })
    }
}

impl ExecConfig {
    /// The fixed arguments, expanded; bad ones are reported and left out.
    fn args(&self, env: &dyn Env, issues: &mut Issues) -> Vec<String> {
        let mut args = Vec::with_capacity(self.args.len());
        for (index, raw) in self.args.iter().enumerate() {
            match expand_env(raw, env) {
                // A NUL cannot be passed in argv; the spawn would fail on every job.
                Ok(arg) if arg.contains('\0') => {
                    issues.push(&format!("args[{index}]"), "holds a NUL character");
                }
                Ok(arg) => args.push(arg),
                Err(err) => issues.push(&format!("args[{index}]"), err.to_string()),
            }
        }
        args
    }

    /// The extra environment, expanded and checked; bad entries are reported and left out.
    fn env(&self, env: &dyn Env, issues: &mut Issues) -> Vec<(String, String)> {
        let mut vars = Vec::with_capacity(self.env.len());
        for (name, raw) in &self.env {
            let field = format!("env.{name}");
            if name.is_empty() || name.contains(['=', '\0']) {
                issues.push(
                    &field,
                    "is not a valid variable name (no `=`, no NUL, not empty)",
                );
                continue;
            }
            if name.starts_with(RESERVED_ENV_PREFIX) {
                issues.push(
                    &field,
                    format!("`{name}` is set by herald (`{RESERVED_ENV_PREFIX}*`); remove it"),
                );
                continue;
            }
            match expand_env(raw, env) {
                Ok(value) if value.contains('\0') => issues.push(
                    &field,
                    "the value (after expanding `${...}` references) holds a NUL character",
                ),
                Ok(value) => vars.push((name.clone(), value)),
                Err(err) => issues.push(&field, err.to_string()),
            }
        }
        vars
    }
}

/// Resolves `raw` against `base_dir` and checks it names an executable file.
///
/// The result is absolute because the child runs in the command's own folder, where a
/// relative path would mean something else.
fn check_command(raw: &str, base_dir: &Path) -> Result<PathBuf, String> {
    if raw.trim().is_empty() {
        return Err("must name the program to run".to_owned());
    }
    let path = std::path::absolute(base_dir.join(raw))
        .map_err(|err| format!("cannot resolve `{raw}`: {err}"))?;
    check_executable(&path)?;
    Ok(path)
}

/// Checks that `path` is a file with an execute bit set.
///
/// # Errors
/// What is wrong, in words an operator can act on.
pub(crate) fn check_executable(path: &Path) -> Result<(), String> {
    let metadata = fs::metadata(path).map_err(|err| {
        format!(
            "`{}` cannot be read ({err}); relative paths start at the config file's folder",
            path.display()
        )
    })?;
    if !metadata.is_file() {
        return Err(format!("`{}` is not a file", path.display()));
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "`{}` is not executable; run `chmod +x` on it",
            path.display()
        ));
    }
    Ok(())
}
