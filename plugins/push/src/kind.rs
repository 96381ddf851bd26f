//! [`ValidatedPush`] as herald's start-up sees it: a notification per job, through ntfy or
//! FCM.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Instance, Issues, Plugin, PluginError,
};

use crate::action::PushAction;
use crate::clock::Clock;
use crate::config::{FcmAuth, PushSettings, ValidatedPush};

#[async_trait]
impl Instance for ValidatedPush {
    fn describe(&self) -> String {
        let provider = match &self.provider {
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

    /// The provider-independent checks plus the instance's provider rules.
    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        let params = cx.params;
        cx.finish(self.validate_action(params, cx.templates), || {
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

    fn max_in_flight(&self) -> Option<usize> {
        Some(self.max_concurrency)
    }

    async fn build(&self, cx: &BuildContext) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(self.clone(), cx, Clock::system())
    }
}

/// [`Instance::build`](herald_plugin_api::Instance::build) with `clock` deciding when an
/// FCM token is due for renewal, for tests that move time on instead of waiting for a token
/// to expire.
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
