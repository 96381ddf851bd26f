//! One reload: load and check the new config whole, build its plugins, and put
//! it in force only if all of that worked.

use std::path::PathBuf;
use std::sync::Arc;

use herald_plugin_api::Env;
use tokio::sync::Notify;
use tracing::{error, info, warn};

use super::diff::{Changes, Files};
use super::live::{Live, Snapshot};
use crate::check;
use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;
use crate::server::ApiError;
use crate::source::Sources;
use crate::store::Store;

/// Reloads the config a running herald was started with.
pub struct Reloader {
    /// The config file.
    path: PathBuf,
    /// The template files in force, to tell which changed.
    files: Files,
    env: Arc<dyn Env>,
    store: Store,
    /// What is in force: what the next reload is compared with, and where it goes.
    live: Live,
    metrics: Arc<Metrics>,
    wake_dispatcher: Arc<Notify>,
}

impl Reloader {
    /// A reloader for a herald running what `live` holds, whose plugins read `store`.
    pub fn new(
        env: Arc<dyn Env>,
        store: Store,
        live: Live,
        metrics: Arc<Metrics>,
        wake_dispatcher: Arc<Notify>,
    ) -> Self {
        metrics.config_loaded();
        let config = live.get().config.clone();
        Self {
            path: config.path.clone(),
            files: Files::read(&config.reloadable.templates_dir),
            env,
            store,
            live,
            metrics,
            wake_dispatcher,
        }
    }

    /// The config file watched.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The templates folder in force.
    pub fn templates_dir(&self) -> PathBuf {
        self.live.get().config.reloadable.templates_dir.clone()
    }

    /// Reads the config file again and puts it in force if it is good. On any
    /// problem the config in force stays; every problem is logged. `why` names an
    /// explicit request (`SIGHUP`, an operator), which may remove every rule or plugin.
    ///
    /// # Errors
    /// The problems, one a line, when the new config is refused.
    pub async fn reload(&mut self, why: &str) -> Result<Changes, Vec<String>> {
        self.reload_as(why, true).await
    }

    /// [`Reloader::reload`] for an edit the file watcher saw. A file that would remove
    /// every rule or every plugin is held back: more likely a writer caught half-way
    /// than the operator's intent, and webhooks would be acknowledged with no jobs.
    ///
    /// # Errors
    /// As [`Reloader::reload`], and when the edit is held back.
    pub async fn reload_edited(&mut self) -> Result<Changes, Vec<String>> {
        self.reload_as("file changed", false).await
    }

    async fn reload_as(&mut self, why: &str, confirmed: bool) -> Result<Changes, Vec<String>> {
        info!(trigger = why, config = %self.path.display(), "reloading the config");
        match self.try_reload(confirmed).await {
            Ok(changes) => {
                self.metrics.reloaded(true);
                // A reload with problems is refused, so the config in force has none.
                self.metrics.config_problems(0);
                let live = self.live.get();
                self.metrics.know_plugins(live.plugins.names());
                for source in Sources::from(&live.config.restart).names() {
                    let types = live.rules().event_types();
                    self.metrics
                        .know_source(source, types, &ApiError::reasons());
                }
                info!(trigger = why, "config reloaded: {changes}");
                // Held jobs wait for exactly this: templates that pass the check.
                match self.store.release_held(crate::clock::now_ms()).await {
                    Ok(0) => {}
                    Ok(released) => info!(
                        released,
                        "jobs held for a template problem are queued again"
                    ),
                    Err(err) => {
                        error!(error = %err, "cannot queue the held jobs again; the next reload tries again");
                    }
                }
                self.wake_dispatcher.notify_one();
                Ok(changes)
            }
            Err(mut problems) => {
                self.metrics.reloaded(false);
                for problem in &problems {
                    error!(trigger = why, "reload refused: {problem}");
                }
                // Counted before the note, which is no problem of the file's.
                let count = problems.len();
                if problems
                    .iter()
                    .any(|p| p.contains("environment variable `"))
                {
                    error!(trigger = why, "{ENVIRONMENT_FIXED}");
                    problems.push(ENVIRONMENT_FIXED.to_owned());
                }
                error!(
                    trigger = why,
                    problems = count,
                    "config not reloaded; the running config stays in force"
                );
                Err(problems)
            }
        }
    }

    async fn try_reload(&mut self, confirmed: bool) -> Result<Changes, Vec<String>> {
        let path = self.path.clone();
        let old = self.live.get().config.clone();
        let mut new = Config::load(&path, self.env.as_ref()).map_err(|err| match err {
            // One entry a problem, as `herald check` counts them.
            ConfigError::Invalid { path, issues } => {
                issues.iter().map(|issue| issue.located(&path)).collect()
            }
            _ => vec![err.to_string()],
        })?;
        if !confirmed {
            if let Some(emptied) = emptied(&old, &new) {
                return Err(vec![format!(
                    "held back: the edited {} removes {emptied}. If that is meant, apply it \
                     with SIGHUP (systemctl reload herald); otherwise finish the edit",
                    path.display()
                )]);
            }
        }
        let report = check::check(&new, &check::builtin());
        if !report.problems.is_empty() || !report.fields.is_empty() {
            let fields = report.fields.iter().map(ToString::to_string);
            return Err(fields
                .chain(report.problems.iter().map(ToString::to_string))
                .collect());
        }
        let files = Files::read(&new.reloadable.templates_dir);
        let changes = Changes::between(&old, &new, &self.files, &files);
        for key in &changes.restart_only {
            warn!(
                setting = key,
                "changed in the config: takes effect on restart; the running value stays"
            );
        }
        // What only a restart changes stays as it runs, so the next reload
        // reports those settings again.
        new.restart = old.restart.clone();
        let snapshot = Snapshot::assemble(new, &self.store, Vec::new())
            .await
            .map_err(|err| vec![format!("cannot set up plugin: {err}")])?;
        self.live.swap(snapshot);
        self.files = files;
        Ok(changes)
    }
}

/// Said after a reload that misses an environment variable: the usual cause is one
/// exported in a shell after herald started, which a reload cannot see.
const ENVIRONMENT_FIXED: &str = "note: a running herald keeps the environment it was started \
    with, so a variable set since (in a shell, or in an EnvironmentFile) is not seen by a reload: \
    restart herald, or keep the secret in a file and write `${file:PATH}`, which every reload reads";

/// What `new` empties that `old` had: every rule or every plugin instance.
fn emptied(old: &Config, new: &Config) -> Option<String> {
    let (old, new) = (&old.reloadable, &new.reloadable);
    let rules = (old.rules.iter().count(), new.rules.iter().count());
    let plugins = (old.plugins.len(), new.plugins.len());
    match (rules, plugins) {
        ((had, 0), _) if had > 0 => Some(format!("every rule ({had} in force)")),
        (_, (had, 0)) if had > 0 => Some(format!("every plugin ({had} in force)")),
        _ => None,
    }
}
