//! The JSON shapes scripts read (documented in docs/operations.md, "Events"), which
//! the admin API answers with too.

use anyhow::Context;
use serde_json::{json, Value};

use crate::store::{EventDetail, EventListing, JobCounts};

fn counts_json(counts: JobCounts) -> Value {
    json!({
        "pending": counts.pending,
        "delivered": counts.delivered,
        "dead": counts.dead,
        "skipped": counts.skipped,
    })
}

pub(crate) fn listing_json(event: &EventListing) -> Value {
    json!({
        "id": event.event_id,
        "source": event.source,
        "type": event.kind,
        "order_id": event.order_id,
        "customer": event.summary.customer,
        "amount": event.summary.amount,
        "currency": event.summary.currency,
        "created": event.created,
        "received_at_ms": event.received_at_ms,
        "status": event.status.as_str(),
        "jobs": counts_json(event.jobs),
    })
}

pub(crate) fn detail_json(detail: &EventDetail) -> anyhow::Result<Value> {
    let event = &detail.event;
    let jobs: Vec<Value> = detail
        .jobs
        .iter()
        .map(|job| {
            let history: Vec<Value> = job
                .history
                .iter()
                .map(|a| {
                    json!({
                        "attempt": a.attempt,
                        "started_at_ms": a.started_at_ms,
                        "finished_at_ms": a.finished_at_ms,
                        "duration_ms": a.finished_at_ms - a.started_at_ms,
                        "outcome": a.outcome,
                        "error": a.error,
                    })
                })
                .collect();
            json!({
                "id": job.id,
                "rule": job.rule,
                "plugin": job.plugin,
                "status": job.status.as_str(),
                "attempts": job.attempts,
                "next_run_at_ms": job.next_run_at_ms,
                "last_error": job.last_error,
                "dead_at_ms": job.dead_at_ms,
                "history": history,
            })
        })
        .collect();
    Ok(json!({
        "event": {
            "id": event.id,
            "source": event.source,
            "type": event.kind,
            "created": event.created,
            "livemode": event.livemode,
            "api_version": event.api_version.as_deref().or_else(|| event.raw.value().get("api_version").and_then(serde_json::Value::as_str)),
            "object_id": event.object_id,
            "order_id": event.order_id,
            "customer": serde_json::to_value(&event.customer)?,
            "links": event.links,
            "resolved": {
                "order_id": detail.resolved.order_id,
                "order_via": detail.resolved.order_via,
                "customer_id": detail.resolved.customer_id,
                "customer_via": detail.resolved.customer_via,
            },
            "amount": event.amount,
            "currency": event.currency,
            "received_at_ms": detail.received_at_ms,
            "status": detail.status().as_str(),
            "jobs": counts_json(detail.counts()),
        },
        "jobs": jobs,
    }))
}

/// `text` (JSON) indented, its keys in the order they came: what Stripe sent, readable.
pub(crate) fn pretty(text: &str) -> anyhow::Result<String> {
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    serde_transcode::transcode(&mut deserializer, &mut serializer)
        .context("the stored payload is not JSON")?;
    String::from_utf8(out).context("the stored payload is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_indented_in_its_own_key_order() {
        assert_eq!(
            pretty(r#"{"id":"evt_1","b":[1,{"a":null}]}"#).unwrap(),
            "{\n  \"id\": \"evt_1\",\n  \"b\": [\n    1,\n    {\n      \"a\": null\n    }\n  ]\n}"
        );
    }
}
