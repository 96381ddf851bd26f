//! The orders [`Plugin`]: built once at start-up by [`build`], then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery turns the event into a [`Fact`] (its signal from the action's `status` or
//! from [`signal_for`]) and hands it to the [`OrderLedger`], which records it and saves
//! the status [`fold`] computes from all the order's facts.

use std::sync::Arc;

use herald_plugin_api::{async_trait, Job, Outcome, Plugin};

use crate::action::OrdersAction;
use crate::callback;
use crate::config::Callback;
use crate::config::ValidatedOrders;
use crate::ledger::{Fact, OrderLedger};
use crate::signal::signal_for;
use crate::status::fold;

/// One `[plugins.orders.<name>]` instance.
struct OrdersPlugin {
    name: String,
    ledger: Arc<dyn OrderLedger>,
    client: reqwest::Client,
    callback: Option<Callback>,
}

/// The `User-Agent` of storefront callbacks.
const USER_AGENT: &str = concat!("herald/", env!("CARGO_PKG_VERSION"));

/// Builds a plugin instance from its validated config and herald's ledger.
///
/// `config` holds only dispatcher settings (concurrency, retry), which herald reads
/// before handing it over; the instance itself needs none of them.
pub fn build(name: &str, config: ValidatedOrders, ledger: Arc<dyn OrderLedger>) -> Arc<dyn Plugin> {
    Arc::new(OrdersPlugin {
        name: name.to_owned(),
        ledger,
        // The shared client follows no redirects: the configured URL should be the
        // final one. Without a callback it is never used.
        client: config
            .callback
            .as_ref()
            .and_then(|callback| {
                herald_plugin_http::client(USER_AGENT, callback.timeout, config.max_concurrency)
                    .ok()
            })
            .unwrap_or_default(),
        callback: config.callback,
    })
}

impl OrdersPlugin {
    /// The fact the job's event records, or why there is none (a permanent failure).
    fn fact(&self, job: &Job<'_>) -> Result<Fact, String> {
        let event = job.event;
        let action = OrdersAction::from_params(job.params).map_err(|errors| errors.join("; "))?;
        let (signal, amount) = match action.status {
            Some(status) => (status, None),
            None => signal_for(event).ok_or_else(|| {
                format!(
                    "orders `{}`: cannot tell what a `{}` event means for an order; \
                     set `status = \"…\"` on the rule's action to say which status it sets",
                    self.name, event.kind
                )
            })?,
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
            Err(reason) => return Outcome::failed(reason),
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
                    (Some(callback), Some(state)) => {
                        callback::notify(&self.client, callback, job, &state).await
                    }
                    _ => Outcome::Delivered,
                }
            }
            Err(err) => Outcome::retry(err.to_string()),
        }
    }
}
