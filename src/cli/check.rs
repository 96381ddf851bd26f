//! `herald check`: validate the config, then render every template a rule uses
//! against the sample events it matches (see [`crate::check`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use herald_plugin_api::Env;

use crate::check;
use crate::Config;

/// `herald check [--samples DIR]`
#[derive(Debug, Clone, Default, Args)]
pub struct CheckArgs {
    /// Render against the shop's own saved events too: every *.json in DIR, each a
    /// Stripe event as Stripe sent it.
    #[arg(long, value_name = "DIR")]
    pub samples: Option<PathBuf>,
}

/// Runs the check; the summary goes to stdout, problems into the error.
///
/// # Errors
/// When the config is invalid or a template would fail to render.
pub fn run(config_path: &Path, args: &CheckArgs, env: &dyn Env) -> anyhow::Result<()> {
    let config = Config::load(config_path, env)?;
    let mut samples = check::builtin();
    let mut broken = Vec::new();
    if let Some(dir) = &args.samples {
        let (saved, errors) = check::load_dir(dir);
        samples.extend(saved);
        broken = errors;
    }
    let report = check::check(&config, &samples);
    println!("{}\n{}", config.summary(), report.summary());
    // Said, not failed: the config is right, the running process is what lags.
    let text = std::fs::read_to_string(config_path).unwrap_or_default();
    for lacking in super::running::lacking(config_path, &super::running::referenced(&text), env) {
        println!(
            "note: the running herald (pid {}) lacks {}, set here: its environment is the one it \
             started with, so its next reload will not see {}. Restart it, or keep the secret in a \
             file and write `${{file:PATH}}`, which every reload reads",
            lacking.pid,
            lacking.variables.join(", "),
            if lacking.variables.len() == 1 {
                "it"
            } else {
                "them"
            }
        );
    }
    let count = report.problems.len() + broken.len();
    if count + report.fields.len() == 0 {
        println!("config is valid");
        return Ok(());
    }
    let mut message = String::new();
    if !report.fields.is_empty() {
        let fields = report.fields.len();
        let _ = write!(
            message,
            "{} has {fields} rule condition{} on a field no event of its types has",
            config.path.display(),
            if fields == 1 { "" } else { "s" }
        );
        for field in &report.fields {
            let _ = write!(message, "\n  {field}");
        }
        if count == 0 {
            bail!(message);
        }
        message.push('\n');
    }
    let _ = write!(
        message,
        "{} has {count} template problem{}: these deliveries would fail",
        config.path.display(),
        if count == 1 { "" } else { "s" }
    );
    for error in &broken {
        let _ = write!(message, "\n  {error}");
    }
    for problem in &report.problems {
        let _ = write!(message, "\n  {problem}");
    }
    bail!(message)
}
