//! [`Push`]: the push kind as herald's start-up sees it.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Issues, Plugin, PluginError, PluginKind,
    ValidateContext,
};
use serde_json::{Map, Value};

use crate::action::PushAction;
use crate::clock::Clock;
use crate::config::{FcmAuth, PushConfig, PushSettings, ValidatedPush};

/// `[plugins.push.<name>]`: a notification per job, through ntfy or FCM.
#[derive(Debug, Clone, Copy, Default)]
pub struct Push;

#[async_trait]
impl PluginKind for Push {
    const NAME: &'static str = "push";
    type Config = PushConfig;
    type Validated = ValidatedPush;

    fn validate(config: PushConfig, cx: &ValidateContext<'_>) -> Result<ValidatedPush, Issues> {
        config.validate(cx)
    }

    /// The provider-independent checks plus the instance's provider rules.
    fn validate_action(
        validated: &ValidatedPush,
        params: &Map<String, Value>,
        cx: &ActionContext<'_>,
    ) -> Result<ActionSpec, Issues> {
        cx.finish(validated.validate_action(params, cx.templates), || {
            let Ok(action) = PushAction::from_params(params) else {
                return ActionSpec::none();
            };
            [
                ("title", action.title),
                ("body", Some(action.body)),
                ("token", action.token),
                ("click", action.click),
            ]
            .into_iter()
            .filter_map(|(param, template)| Some((param, template?)))
            .fold(ActionSpec::none(), |spec, (param, template)| {
                spec.with_inline(param, template)
            })
        })
    }

    fn max_in_flight(validated: &ValidatedPush) -> Option<usize> {
        Some(validated.max_concurrency)
    }

    fn describe(validated: &ValidatedPush) -> String {
        let provider = match &validated.provider {
            PushSettings::Ntfy(_) => "ntfy",
            PushSettings::Fcm(fcm) => match &fcm.auth {
                FcmAuth::ServiceAccount(account) => {
                    return format!(
                        "notifies through Firebase Cloud Messaging as {}",
                        account.client_email
                    );
                }
                FcmAuth::Static(_) => "Firebase Cloud Messaging (fixed access token, for tests)",
            },
        };
        format!("notifies through {provider}")
    }

    async fn build(
        validated: ValidatedPush,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(validated, cx, Clock::system())
    }
}

/// [`Push::build`] with `clock` deciding when an FCM token is due for renewal, for
/// tests that move time on instead of waiting for a token to expire.
///
/// # Errors
/// When an HTTP client cannot be built.
pub fn build_with_clock(
    validated: ValidatedPush,
    cx: &BuildContext,
    clock: Clock,
) -> Result<Arc<dyn Plugin>, PluginError> {
    crate::plugin::build(validated, cx, clock)
}
