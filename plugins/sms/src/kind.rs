//! [`Sms`]: the sms kind as herald's start-up sees it.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Issues, Job, Plugin, PluginError,
    PluginKind, Preview, TemplatePart, Templates, ValidateContext,
};
use serde_json::{Map, Value};

use crate::action::{validate_action, SmsAction};
use crate::auth::TwilioAuth;
use crate::config::{ProviderSettings, SmsConfig, ValidatedSms};

/// `[plugins.sms.<name>]`: a text message per job, through Twilio.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sms;

#[async_trait]
impl PluginKind for Sms {
    const NAME: &'static str = "sms";
    type Config = SmsConfig;
    type Validated = ValidatedSms;

    fn validate(config: SmsConfig, cx: &ValidateContext<'_>) -> Result<ValidatedSms, Issues> {
        config.validate(cx)
    }

    fn validate_action(
        validated: &ValidatedSms,
        params: &Map<String, Value>,
        cx: &ActionContext<'_>,
    ) -> Result<ActionSpec, Issues> {
        cx.finish(
            validate_action(params, cx.templates),
            || match SmsAction::from_params(params) {
                Ok(action) => {
                    let ProviderSettings::Twilio(twilio) = &validated.provider;
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

    fn max_in_flight(validated: &ValidatedSms) -> Option<usize> {
        Some(validated.max_concurrency)
    }

    fn describe(validated: &ValidatedSms) -> String {
        match &validated.provider {
            ProviderSettings::Twilio(twilio) => match twilio.auth {
                TwilioAuth::ApiKey { .. } => "sends texts through Twilio with an API key",
                TwilioAuth::AuthToken(_) => "sends texts through Twilio with the Auth Token",
            }
            .to_owned(),
        }
    }

    fn preview(
        validated: &ValidatedSms,
        job: &Job<'_>,
        templates: &dyn Templates,
    ) -> Option<Result<Preview, String>> {
        Some(crate::preview::preview(validated, job, templates))
    }

    async fn build(
        validated: ValidatedSms,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(validated, cx)
    }
}
