//! The storefront callback: after a fact changes an order, POST its status (see
//! [`herald_plugin_http::callback`]).

use herald_plugin_api::{Job, Outcome};
use herald_plugin_http::callback::Callback;
use reqwest::Client;
use serde_json::json;

use crate::ledger::OrderState;

/// Sends `state` to the storefront; the job's idempotency key names the call.
pub(crate) async fn notify(
    client: &Client,
    callback: &Callback,
    job: &Job<'_>,
    state: &OrderState,
) -> Outcome {
    let body = json!({
        "type": "order.status",
        "order_id": state.order_id,
        "status": state.status.as_str(),
        "decided_by": state.decided_by,
        "decided_at": state.decided_at,
        "facts": state.facts,
        "on_hold": state.on_hold,
        "event_id": job.event.id,
        "event_type": job.event.kind,
    })
    .to_string();
    herald_plugin_http::callback::notify(client, callback, job, body).await
}
