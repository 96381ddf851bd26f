//! [`Email`]: the email kind as herald's start-up sees it.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Issues, Job, Plugin, PluginError,
    PluginKind, Preview, TemplatePart, Templates, ValidateContext,
};
use serde_json::{Map, Value};

use crate::action::{validate_action, EmailAction};
use crate::config::{EmailConfig, TransportSettings, ValidatedEmail};

/// `[plugins.email.<name>]`: mail rendered from a template set, sent through SMTP or
/// written to an outbox folder.
#[derive(Debug, Clone, Copy, Default)]
pub struct Email;

#[async_trait]
impl PluginKind for Email {
    const NAME: &'static str = "email";
    type Config = EmailConfig;
    type Validated = ValidatedEmail;

    fn validate(config: EmailConfig, cx: &ValidateContext<'_>) -> Result<ValidatedEmail, Issues> {
        config.validate(cx)
    }

    fn validate_action(
        _validated: &ValidatedEmail,
        params: &Map<String, Value>,
        cx: &ActionContext<'_>,
    ) -> Result<ActionSpec, Issues> {
        cx.finish(validate_action(params, cx.templates), || {
            let Ok(action) = EmailAction::from_params(params) else {
                return ActionSpec::none();
            };
            let parts = [
                TemplatePart::Subject,
                TemplatePart::Text,
                TemplatePart::Html,
            ];
            let spec = ActionSpec::none()
                .with_set(action.template, &parts)
                .with_inline("to", action.to);
            match action.reply_to {
                Some(reply_to) => spec.with_inline("reply_to", reply_to),
                None => spec,
            }
        })
    }

    /// The SMTP pool's size: lettre's pool caps idle connections only, so this is what
    /// bounds open connections.
    fn max_in_flight(validated: &ValidatedEmail) -> Option<usize> {
        match &validated.transport {
            TransportSettings::Smtp(smtp) => usize::try_from(smtp.pool_max_size).ok(),
            TransportSettings::File { .. } => None,
        }
    }

    fn describe(validated: &ValidatedEmail) -> String {
        match &validated.transport {
            TransportSettings::File { outbox } => {
                format!("writes mail as .eml files into {}", outbox.display())
            }
            TransportSettings::Smtp(smtp) => {
                format!("sends mail through SMTP {}:{}", smtp.host, smtp.port)
            }
        }
    }

    fn preview(
        validated: &ValidatedEmail,
        job: &Job<'_>,
        templates: &dyn Templates,
    ) -> Option<Result<Preview, String>> {
        Some(crate::preview::preview(validated, job, templates))
    }

    async fn build(
        validated: ValidatedEmail,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(validated, cx).await
    }
}
