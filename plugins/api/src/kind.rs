//! [`PluginConfig`] and [`Instance`]: what one kind of plugin (`email`, `webhook`, …)
//! tells herald, and the contexts herald hands it at each step of start-up.
//!
//! Start-up runs per instance: herald deserializes `[plugins.<KIND>.<name>]` into the
//! kind's [`PluginConfig`], calls [`PluginConfig::validate`] (pure: `herald check` runs
//! it too and reports every problem at once), checks each rule action aimed at the
//! instance with [`Instance::validate_action`], and only then calls
//! [`Instance::build`], which does the I/O and never repeats a check.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::action_spec::ActionSpec;
use crate::build::BuildContext;
use crate::config::Env;
use crate::issues::Issues;
use crate::plugin::{Job, Plugin, PluginError};
use crate::preview::Preview;
use crate::templates::Templates;

/// One kind of plugin, as the table `[plugins.<KIND>.<name>]` it is configured by:
/// herald lists every kind it runs once, by its config type.
pub trait PluginConfig: DeserializeOwned + Send + 'static {
    /// The kind as written in `[plugins.<KIND>.<instance>]`, e.g. `"email"`.
    const KIND: &'static str;

    /// Everything [`Instance::build`] needs, checked and resolved.
    type Instance: Instance;

    /// Checks an instance's table and resolves it; does no I/O beyond `${VAR}` lookups.
    ///
    /// # Errors
    /// Every problem found, each at its own key under [`ValidateContext::key`].
    fn validate(&self, cx: &ValidateContext<'_>) -> Result<Self::Instance, Issues>;
}

/// One validated instance of a kind, not yet built: what herald asks of it while it
/// checks rules, previews and starts.
#[async_trait]
pub trait Instance: Send + Sync + 'static {
    /// What the instance is and where its output goes, for the start-up log (after
    /// `"<name> (<KIND>) "`). Never a secret, a query string or customer data.
    fn describe(&self) -> String;

    /// Checks one rule action's parameters (everything but `plugin`) against the
    /// instance and the loaded templates, and says what the action will render.
    ///
    /// # Errors
    /// Every problem found; herald places them at the action's line.
    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues>;

    /// Most deliveries in flight to the instance at once; `None` (the default) when
    /// the kind has no limit of its own and the dispatcher's concurrency applies.
    fn max_in_flight(&self) -> Option<usize> {
        None
    }

    /// What delivering `job` would send, for `herald route`'s dry run: composed by the
    /// code delivery composes with, every secret masked, nothing sent. `None` (the
    /// default): the kind has no preview of its own, and herald shows the templates the
    /// action renders.
    ///
    /// `Some(Err(reason))`: delivery would fail the job for good, for `reason`.
    fn preview(
        &self,
        _job: &Job<'_>,
        _templates: &dyn Templates,
    ) -> Option<Result<Preview, String>> {
        None
    }

    /// Builds the running instance: the start-up I/O (folders, clients, pools). A
    /// reload builds from the same validated instance again.
    ///
    /// # Errors
    /// When the instance cannot be set up.
    async fn build(&self, cx: &BuildContext) -> Result<Arc<dyn Plugin>, PluginError>;
}

/// What [`PluginConfig::validate`] may consult.
#[derive(Clone, Copy)]
pub struct ValidateContext<'a> {
    /// The instance's dotted key, `plugins.<kind>.<name>`; issues go under it.
    pub key: &'a str,
    /// The instance's name, as rules refer to it.
    pub name: &'a str,
    /// Where `${VAR}` references are looked up.
    pub env: &'a dyn Env,
    /// The config file's folder; relative paths are taken from here.
    pub base_dir: &'a Path,
    /// The loaded templates; `None` when the templates folder failed to load (that
    /// problem is reported on its own).
    pub templates: Option<&'a dyn Templates>,
}

impl<'a> ValidateContext<'a> {
    /// The context of the instance at `key` (`plugins.<kind>.<name>`), named by the
    /// key's last part (set [`Self::name`] for a name holding a dot), with relative
    /// paths taken from the current folder and no templates.
    pub fn new(key: &'a str, env: &'a dyn Env) -> Self {
        Self {
            key,
            name: key.rsplit('.').next().unwrap_or(key),
            env,
            base_dir: Path::new("."),
            templates: None,
        }
    }

    /// The same context with relative paths taken from `base_dir`.
    #[must_use]
    pub fn with_base_dir(self, base_dir: &'a Path) -> Self {
        Self { base_dir, ..self }
    }

    /// The same context with `templates` loaded.
    #[must_use]
    pub fn with_templates(self, templates: &'a dyn Templates) -> Self {
        Self {
            templates: Some(templates),
            ..self
        }
    }

    /// An empty collector for this instance's problems.
    pub fn issues(&self) -> Issues {
        Issues::new(self.key)
    }
}

/// What [`Instance::validate_action`] may consult.
#[derive(Clone, Copy)]
pub struct ActionContext<'a> {
    /// The action's dotted key, e.g. `rules[0] (paid).actions[1]`; issues go under it.
    pub key: &'a str,
    /// The action's parameters: everything but `plugin`.
    pub params: &'a Map<String, Value>,
    /// The loaded templates.
    pub templates: &'a dyn Templates,
}

impl<'a> ActionContext<'a> {
    /// The context of the action at `key`, with these parameters.
    pub fn new(key: &'a str, params: &'a Map<String, Value>, templates: &'a dyn Templates) -> Self {
        Self {
            key,
            params,
            templates,
        }
    }

    /// A parameter check's messages as problems of the action as a whole, or the
    /// action's [`ActionSpec`] when the check passed.
    ///
    /// # Errors
    /// The messages, when the check failed.
    pub fn finish(
        &self,
        checked: Result<(), Vec<String>>,
        spec: impl FnOnce() -> ActionSpec,
    ) -> Result<ActionSpec, Issues> {
        match checked {
            Ok(()) => Ok(spec()),
            Err(messages) => {
                let mut issues = Issues::new(self.key);
                for message in messages {
                    issues.push_here(message);
                }
                Err(issues)
            }
        }
    }
}
