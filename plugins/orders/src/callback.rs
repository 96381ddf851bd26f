//! The storefront callback: after a fact changes an order, POST its status, signed
//! the Standard Webhooks way, so the storefront can trust it and drop repeats.

use herald_plugin_api::{Job, Outcome};
use herald_plugin_http::signature::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_ID_HEADER};
use herald_plugin_http::{answered, excerpt, outcome};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Client;
use serde_json::json;

use crate::config::Callback;
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
    let mut request = client
        .post(callback.url.clone())
        .timeout(callback.timeout)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("idempotency-key", job.idempotency_key);
    if let Some(secret) = &callback.secret {
        let timestamp = herald_plugin_http::unix_now();
        request = request
            .header(WEBHOOK_ID_HEADER, job.idempotency_key)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                sign(secret, job.idempotency_key, timestamp, body.as_bytes()),
            );
    }
    let destination = callback.url.origin().ascii_serialization();
    match herald_plugin_http::send(request.body(body), &destination, callback.timeout).await {
        Err(outcome) => outcome,
        Ok(answer) => {
            let text = if answer.status.is_success() {
                String::new()
            } else {
                excerpt(&answer.body)
            };
            outcome(
                answer.status,
                &answer.headers,
                answered("storefront", answer.status, &text),
            )
        }
    }
}
