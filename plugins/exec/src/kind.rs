//! [`Exec`]: the exec kind as herald's start-up sees it.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Issues, Job, Plugin, PluginError,
    PluginKind, Preview, Templates, ValidateContext,
};
use serde_json::{Map, Value};

use crate::action::{validate_action, ExecAction};
use crate::config::{ExecConfig, ValidatedExec};

/// `[plugins.exec.<name>]`: a shop's own program, run once per job.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exec;

#[async_trait]
impl PluginKind for Exec {
    const NAME: &'static str = "exec";
    type Config = ExecConfig;
    type Validated = ValidatedExec;

    fn validate(config: ExecConfig, cx: &ValidateContext<'_>) -> Result<ValidatedExec, Issues> {
        config.validate(cx)
    }

    fn validate_action(
        _validated: &ValidatedExec,
        params: &Map<String, Value>,
        cx: &ActionContext<'_>,
    ) -> Result<ActionSpec, Issues> {
        cx.finish(validate_action(params, cx.templates), || {
            let Ok(action) = ExecAction::from_params(params) else {
                return ActionSpec::none();
            };
            action
                .args
                .into_iter()
                .enumerate()
                .fold(ActionSpec::none(), |spec, (index, arg)| {
                    spec.with_inline(format!("args[{index}]"), arg)
                })
        })
    }

    fn max_in_flight(validated: &ValidatedExec) -> Option<usize> {
        Some(validated.max_concurrency)
    }

    fn describe(validated: &ValidatedExec) -> String {
        format!("runs {}", validated.command.display())
    }

    fn preview(
        validated: &ValidatedExec,
        job: &Job<'_>,
        templates: &dyn Templates,
    ) -> Option<Result<Preview, String>> {
        Some(crate::preview::preview(validated, job, templates))
    }

    async fn build(
        validated: ValidatedExec,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(validated, cx)
    }
}
