//! [`Webhook`]: the webhook kind as herald's start-up sees it.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Issues, Job, Plugin, PluginError,
    PluginKind, Preview, Templates, ValidateContext,
};
use serde_json::{Map, Value};

use crate::action::{validate_action, WebhookAction};
use crate::config::{ValidatedWebhook, WebhookConfig};

/// `[plugins.webhook.<name>]`: a signed JSON POST per job; with a `body` template it
/// is herald's generic JSON call.
#[derive(Debug, Clone, Copy, Default)]
pub struct Webhook;

#[async_trait]
impl PluginKind for Webhook {
    const NAME: &'static str = "webhook";
    type Config = WebhookConfig;
    type Validated = ValidatedWebhook;

    fn validate(
        config: WebhookConfig,
        cx: &ValidateContext<'_>,
    ) -> Result<ValidatedWebhook, Issues> {
        config.validate(cx)
    }

    fn validate_action(
        _validated: &ValidatedWebhook,
        params: &Map<String, Value>,
        cx: &ActionContext<'_>,
    ) -> Result<ActionSpec, Issues> {
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

    fn max_in_flight(validated: &ValidatedWebhook) -> Option<usize> {
        Some(validated.max_concurrency)
    }

    /// The origin and path only: a query string might hold a token.
    fn describe(validated: &ValidatedWebhook) -> String {
        format!(
            "posts to {}{}",
            validated.url.origin().ascii_serialization(),
            validated.url.path()
        )
    }

    fn preview(
        validated: &ValidatedWebhook,
        job: &Job<'_>,
        templates: &dyn Templates,
    ) -> Option<Result<Preview, String>> {
        Some(crate::preview::preview(validated, job, templates))
    }

    async fn build(
        validated: ValidatedWebhook,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(validated, cx)
    }
}
