//! [`ValidatedWebhook`] as herald's start-up sees it: a signed JSON POST per job; with a
//! `body` template it is herald's generic JSON call.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Instance, Issues, Job, Plugin,
    PluginError, Preview, Templates,
};

use crate::action::{validate_action, WebhookAction};
use crate::config::ValidatedWebhook;

#[async_trait]
impl Instance for ValidatedWebhook {
    /// The origin and path only: a query string might hold a token.
    fn describe(&self) -> String {
        format!(
            "posts to {}{}",
            self.url.origin().ascii_serialization(),
            self.url.path()
        )
    }

    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        let params = cx.params;
        cx.finish(validate_action(params, cx.templates), || {
            let Ok(action) = WebhookAction::from_params(params) else {
                return ActionSpec::none();
            };
            let spec = ActionSpec::none();
            let spec = match action.path {
                Some(path) => spec.with_inline("path", path),
                None => spec,
            };
            match action.body {
                Some(body) => spec.with_inline("body", body),
                None => spec,
            }
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
