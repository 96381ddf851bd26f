//! The subscriptions [`Plugin`]: records what each event tells of its subscription,
//! and tells the storefront when the subscriber's access or plan changed.

use std::sync::Arc;

use herald_plugin_api::{async_trait, BuildContext, Job, Outcome, Plugin, PluginError};
use herald_plugin_http::callback::{notify, Callback};
use serde_json::json;

use crate::access::Access;
use crate::config::ValidatedSubscriptions;
use crate::fold::fold;
use crate::ledger::{SubscriptionFact, SubscriptionLedger, SubscriptionState};
use crate::read::{read, Reading};

/// One `[plugins.subscriptions.<name>]` instance.
struct SubscriptionsPlugin {
    name: String,
    ledger: Arc<dyn SubscriptionLedger>,
    access: Access,
    callback: Option<(Callback, reqwest::Client)>,
}

/// Builds an instance from its validated config and the context's ledger.
///
/// # Errors
/// When the context holds no subscription ledger, or the callback's client cannot be built.
pub(crate) fn build(
    config: ValidatedSubscriptions,
    cx: &BuildContext,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let callback =
        herald_plugin_http::callback::with_client(config.callback, cx, config.max_concurrency)?;
    Ok(Arc::new(SubscriptionsPlugin {
        name: cx.name().to_owned(),
        ledger: cx.subscription_ledger()?,
        access: config.access,
        callback,
    }))
}

#[async_trait]
impl Plugin for SubscriptionsPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let event = job.event;
        let (id, observation) = match read(event) {
            Reading::Subscription(id, observation) => (id, observation),
            Reading::Entitlements(entitlements) => {
                return match self.ledger.set_entitlements(&entitlements).await {
                    Ok(()) => Outcome::Delivered,
                    Err(err) => Outcome::retry(err.to_string()),
                }
            }
            Reading::Nothing => {
                return Outcome::skipped(format!(
                    "no change: a `{}` event tells nothing of a subscription",
                    event.kind
                ))
            }
            Reading::Unreadable(field) => {
                return Outcome::failed(format!(
                    "subscriptions `{}`: a `{}` event without `{field}` cannot be read",
                    self.name, event.kind
                ))
            }
        };
        let fact = SubscriptionFact {
            event_id: event.id.clone(),
            event_type: event.kind.clone(),
            created: event.created,
            observation,
        };
        // The fold is handed over as `'static`: it owns its copy of the small policy.
        let access = self.access.clone();
        let folding = move |id: &str, facts: &[SubscriptionFact]| fold(id, facts, &access);
        let recorded = match self.ledger.apply(&id, &fact, &folding).await {
            Ok(recorded) => recorded,
            Err(err) => return Outcome::retry(err.to_string()),
        };
        let Some(state) = recorded.state else {
            return Outcome::Delivered;
        };
        tracing::info!(plugin = %self.name, subscription = %state.id, status = %state.status,
                       access = state.access, changed = recorded.changed, event_id = %event.id,
                       "subscription folded");
        match (&self.callback, recorded.changed) {
            (Some((callback, client)), true) => {
                let entitlements = match &state.customer {
                    Some(customer) => match self.ledger.entitlements(customer).await {
                        Ok(features) => features,
                        Err(err) => return Outcome::retry(err.to_string()),
                    },
                    None => Vec::new(),
                };
                notify(client, callback, job, body(&state, &entitlements, job)).await
            }
            _ => Outcome::Delivered,
        }
    }
}

/// The callback's JSON body.
fn body(state: &SubscriptionState, entitlements: &[String], job: &Job<'_>) -> String {
    json!({
        "type": "subscription.access",
        "subscription": state.id,
        "customer": state.customer,
        "status": state.status,
        "access": state.access,
        "items": state.items,
        "current_period_end": state.current_period_end,
        "cancel_at_period_end": state.cancel_at_period_end,
        "cancel_at": state.cancel_at,
        "entitlements": entitlements,
        "event_id": job.event.id,
        "event_type": job.event.kind,
    })
    .to_string()
}
