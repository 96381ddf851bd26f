//! [`ValidatedSms`] as herald's start-up sees it: a text message per job, through Twilio.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Instance, Issues, Job, Plugin,
    PluginError, Preview, TemplatePart, Templates,
};

use crate::action::{validate_action, SmsAction};
use crate::auth::TwilioAuth;
use crate::config::{ProviderSettings, ValidatedSms};

#[async_trait]
impl Instance for ValidatedSms {
    fn describe(&self) -> String {
        match &self.provider {
            ProviderSettings::Twilio(twilio) => match twilio.auth {
                TwilioAuth::ApiKey { .. } => "sends texts through Twilio with an API key",
                TwilioAuth::AuthToken(_) => "sends texts through Twilio with the Auth Token",
            }
            .to_owned(),
        }
    }

    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        let params = cx.params;
        cx.finish(
            validate_action(params, cx.templates),
            || match SmsAction::from_params(params) {
                Ok(action) => {
                    let ProviderSettings::Twilio(twilio) = &self.provider;
                    let spec = ActionSpec::none()
                        .with_inline("to", action.to_template())
                        .with_set(action.template, &[TemplatePart::Text]);
                    match &twilio.status_callback {
                        Some(template) => spec.with_inline("status_callback", template.clone()),
                        None => spec,
                    }
                }
                Err(_) => ActionSpec::none(),
            },
        )
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
