//! The orders [`Plugin`]: built once at start-up by [`build`], then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery turns the event into a [`Fact`] (its signal from the action's `status` or
//! from [`read`](crate::read)) and hands it to the [`OrderLedger`], which records it and saves
//! the status [`fold`] computes from all the order's facts.

use std::sync::Arc;

use herald_plugin_api::{async_trait, BuildContext, Job, Outcome, Plugin, PluginError};

use crate::action::OrdersAction;
use crate::callback;
use crate::config::Callback;
use crate::config::ValidatedOrders;
use crate::ledger::{Fact, OrderLedger};
use crate::signal::{read, Reading};
use crate::status::fold;

/// One `[plugins.orders.<name>]` instance.
struct OrdersPlugin {
    name: String,
    ledger: Arc<dyn OrderLedger>,
    /// The storefront callback and the client it is sent with.
    callback: Option<(Callback, reqwest::Client)>,
}

/// Builds a plugin instance from its validated config and the context's order ledger.
///
/// `config` holds dispatcher settings (concurrency, retry), which herald reads through
/// [`Orders`](crate::Orders) before building, and the callback the instance needs.
///
/// # Errors
/// When the context holds no order ledger, or the callback's HTTP client cannot be built.
pub(crate) fn build(
    config: ValidatedOrders,
    cx: &BuildContext,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let callback =
        herald_plugin_http::callback::with_client(config.callback, cx, config.max_concurrency)?;
    Ok(Arc::new(OrdersPlugin {
        name: cx.name().to_owned(),
        ledger: cx.order_ledger()?,
        callback,
    }))
}

impl OrdersPlugin {
    /// The fact the job's event records, or the outcome when there is none: skipped
    /// for an event that says nothing about an order, failed for one that cannot be read.
    fn fact(&self, job: &Job<'_>) -> Result<Fact, Outcome> {
        let event = job.event;
        let action = OrdersAction::from_params(job.params)
            .map_err(|errors| Outcome::failed(errors.join("; ")))?;
        let (signal, amount) = match action.status {
            Some(status) => (status, None),
            None => match read(event) {
                Reading::Signal(signal, amount) => (signal, amount),
                Reading::Nothing => {
                    return Err(Outcome::skipped(format!(
                        "no change: a `{}` event does not move an order's status \
                         (set `status = \"…\"` on the rule's action to make it)",
                        event.kind
                    )))
                }
                Reading::Unreadable(field) => {
                    return Err(Outcome::failed(format!(
                        "orders `{}`: a `{}` event without `{field}` cannot be read",
                        self.name, event.kind
                    )))
                }
            },
        };
        Ok(Fact {
            event_id: event.id.clone(),
            event_type: event.kind.clone(),
            created: event.created,
            signal,
            amount,
        })
    }
}

#[async_trait]
impl Plugin for OrdersPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let event = job.event;
        let Some(order_id) = event.order_id.as_deref() else {
            return Outcome::failed(format!(
                "event `{}` ({}) carries no metadata.order_id: add `when = \"order_id exists\"` to the rule",
                event.id, event.kind
            ));
        };
        let fact = match self.fact(job) {
            Ok(fact) => fact,
            Err(outcome) => return outcome,
        };
        match self.ledger.apply(order_id, &fact, &fold).await {
            Ok(state) => {
                // Ids and the status only: the event's customer data stays out of logs.
                let status = state.as_ref().map_or("none", |state| state.status.as_str());
                tracing::info!(
                    plugin = %self.name,
                    order_id,
                    status,
                    event_id = %event.id,
                    "order status recomputed"
                );
                // The fact is recorded once, so a retry after a failed callback
                // only repeats the call, never the status change.
                match (&self.callback, state) {
                    (Some((callback, client)), Some(state)) => {
                        callback::notify(client, callback, job, &state).await
                    }
                    _ => Outcome::Delivered,
                }
            }
            Err(err) => Outcome::retry(err.to_string()),
        }
    }
}
