//! [`ValidatedEmail`] as herald's start-up sees it: mail rendered from a template set, sent
//! through SMTP or written to an outbox folder.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Instance, Issues, Job, Plugin,
    PluginError, Preview, TemplatePart, Templates,
};

use crate::action::{validate_action, EmailAction};
use crate::config::{TransportSettings, ValidatedEmail};

#[async_trait]
impl Instance for ValidatedEmail {
    fn describe(&self) -> String {
        match &self.transport {
            TransportSettings::File { outbox } => {
                format!("writes mail as .eml files into {}", outbox.display())
            }
            TransportSettings::Smtp(smtp) => {
                format!("sends mail through SMTP {}:{}", smtp.host, smtp.port)
            }
        }
    }

    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        let params = cx.params;
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
    fn max_in_flight(&self) -> Option<usize> {
        match &self.transport {
            TransportSettings::Smtp(smtp) => usize::try_from(smtp.pool_max_size).ok(),
            TransportSettings::File { .. } => None,
        }
    }

    fn preview(&self, job: &Job<'_>, templates: &dyn Templates) -> Option<Result<Preview, String>> {
        Some(crate::preview::preview(self, job, templates))
    }

    async fn build(&self, cx: &BuildContext) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(self.clone(), cx).await
    }
}
