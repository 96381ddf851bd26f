//! Jobs, deliveries and outcome assertions, against a plugin that reports what it got.

use std::sync::Mutex;
use std::time::Duration;

use herald_plugin_api::{async_trait, Event, Job, Outcome, Plugin};
use herald_testkit::{
    assert_failed, assert_retry, deliver, deliver_in_context, event, failed_reason, params, reason,
    Attempt,
};
use serde_json::{json, Value};

/// Keeps what each job carried.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, u32, String, Value)>>);

#[async_trait]
impl Plugin for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let seen = (
            job.rule.to_owned(),
            job.attempt,
            job.idempotency_key.to_owned(),
            job.context.get().clone(),
        );
        self.0.lock().expect("not poisoned").push(seen);
        Outcome::Delivered
    }
}

#[tokio::test]
async fn a_delivery_carries_its_attempt_and_the_events_context() {
    let plugin = Recorder::default();
    let event: Event = event("payment_intent.succeeded", json!({ "id": "pi_1" }));
    let action = params(json!({ "template": "paid" }));
    let first = Attempt::first("paid", "stripe:evt_1:paid:0");
    assert_eq!(
        deliver(&plugin, &event, &action, first).await,
        Outcome::Delivered
    );
    let retry = first.number(2);
    let context = json!({ "order_id": "7" });
    assert_eq!(
        deliver_in_context(&plugin, &event, &action, context.clone(), retry).await,
        Outcome::Delivered
    );
    let seen = plugin.0.lock().expect("not poisoned").clone();
    assert_eq!(
        seen,
        [
            (
                "paid".to_owned(),
                1,
                "stripe:evt_1:paid:0".to_owned(),
                event.context()
            ),
            (
                "paid".to_owned(),
                2,
                "stripe:evt_1:paid:0".to_owned(),
                context
            ),
        ]
    );
}

#[test]
fn the_sample_event_is_order_42_paid_by_ada() {
    let event = event("checkout.session.completed", json!({ "id": "cs_1" }));
    assert_eq!((event.id.as_str(), event.created), ("evt_1", 1_700_000_000));
    assert_eq!(event.object_id.as_deref(), Some("cs_1"));
    assert_eq!(event.order_id.as_deref(), Some("42"));
    assert_eq!(event.customer.email.as_deref(), Some("ada@example.com"));
    assert_eq!(event.context()["data"]["object"]["id"], "cs_1");
    assert_eq!(event.raw.value()["type"], "checkout.session.completed");
}

#[test]
fn outcome_assertions_read_the_reason_and_hint() {
    let failed = Outcome::failed("554 rejected");
    assert_failed(&failed, "554");
    assert_eq!(failed_reason(&failed), "554 rejected");
    assert_eq!(reason(&failed), "554 rejected");
    let retry = Outcome::Retry {
        after: Some(Duration::from_secs(7)),
        reason: "429".into(),
    };
    assert_eq!(assert_retry(&retry, "429"), Some(Duration::from_secs(7)));
    assert_eq!(reason(&retry), "429");
}

#[test]
#[should_panic(expected = "expected Failed")]
fn a_retry_is_not_a_failure() {
    assert_failed(&Outcome::retry("later"), "later");
}

#[test]
#[should_panic(expected = "not an object")]
fn params_must_be_an_object() {
    params(json!([1]));
}
