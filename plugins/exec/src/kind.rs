//! [`ValidatedExec`] as herald's start-up sees it: a shop's own program, run once per job.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Instance, Issues, Job, Plugin,
    PluginError, Preview, Templates,
};

use crate::action::{validate_action, ExecAction};
use crate::config::ValidatedExec;

#[async_trait]
impl Instance for ValidatedExec {
    fn describe(&self) -> String {
        format!("runs {}", self.command.display())
    }

    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        let params = cx.params;
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

    fn max_in_flight(&self) -> Option<usize> {
        Some(self.max_concurrency)
    }

    fn preview(&self, job: &Job<'_>, templates: &dyn Templates) -> Option<Result<Preview, String>> {
        Some(crate::preview::preview(self, job, templates))
    }

    async fn build(&self, cx: &BuildContext) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(self.clone(), cx)
    }
}
