//! What a rule's `order.…` paths read when its job is delivered: the order as this
//! event leaves it, computed from every fact known then (see decision 0079).
//!
//! - `order.status`: the order's status folded from every known fact, this
//!   event's included, so a late event sees what happened after it.
//! - `order.previous_status`: the status just before this event's fact in the
//!   folded history (sorted by `created`, as the orders plugin folds).
//! - `order.changed`: whether this event's fact moved the order there (or put
//!   on or lifted its hold).
//! - `order.on_hold`: whether the order is held (a fraud warning, an open review),
//!   every known fact folded in.
//!
//! The facts are those the orders plugin recorded (a rule's forced `status` wins)
//! and, for every other stored event of the order, what its type means
//! ([`signal_for`]), so the answer does not wait for the orders jobs. An event
//! without an order id is an order of its own: its status is what it says.

use herald_plugin_api::Event;
use herald_plugin_orders::{history, signal_for, Fact, OrderStatus};
use serde_json::{json, Value};

use super::condition::{Comparison, Condition, Scope, ORDER_PATHS};
use super::scope::EventScope;
use super::{Rule, Rules};

/// An order as one event leaves it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderView {
    /// Its status now, every known fact folded in.
    pub status: Option<OrderStatus>,
    /// The status just before this event's fact.
    pub previous_status: Option<OrderStatus>,
    /// Whether this event's fact moved the order or its hold.
    pub changed: bool,
    /// Whether the order is held now, every known fact folded in.
    pub on_hold: bool,
}

impl OrderView {
    /// The view of `event`'s order from the facts `recorded` for it and the
    /// order's `stored` events (which may include `event`).
    pub fn of(event: &Event, recorded: &[Fact], stored: &[Event]) -> Self {
        let mut facts: Vec<Fact> = recorded.to_vec();
        for other in stored.iter().chain(std::iter::once(event)) {
            if facts.iter().any(|fact| fact.event_id == other.id) {
                continue;
            }
            if let Some((signal, amount)) = signal_for(other) {
                facts.push(Fact {
                    event_id: other.id.clone(),
                    event_type: other.kind.clone(),
                    created: other.created,
                    signal,
                    amount,
                });
            }
        }
        let steps = history(&facts);
        let last = steps.last();
        let status = last.and_then(|step| step.after);
        let on_hold = last.is_some_and(|step| step.on_hold);
        match steps.iter().find(|step| step.fact.event_id == event.id) {
            Some(step) => Self {
                status,
                previous_status: step.before,
                changed: step.applied
                    && (step.before != step.after || step.fact.signal.status().is_none()),
                on_hold,
            },
            // The event says nothing about the order: it moved nothing.
            None => Self {
                status,
                previous_status: status,
                changed: false,
                on_hold,
            },
        }
    }

    /// The `order` object conditions read.
    fn to_value(self) -> Value {
        let name = |status: Option<OrderStatus>| status.map(OrderStatus::as_str);
        json!({
            "status": name(self.status),
            "previous_status": name(self.previous_status),
            "changed": self.changed,
            "on_hold": self.on_hold,
        })
    }
}

/// An event's scope with its order filled in: nothing is deferred any more.
struct DeliveryScope<'a> {
    event: EventScope<'a>,
    order: Value,
}

impl Scope for DeliveryScope<'_> {
    fn lookup(&self, path: &[String]) -> Option<&Value> {
        match path.split_first() {
            Some((first, rest)) if first == "order" => {
                super::condition::lookup(&self.order, rest).filter(|value| !value.is_null())
            }
            _ => self.event.lookup(path),
        }
    }
}

impl Rule {
    /// Whether its `when` reads `order.…`, so its jobs are checked again at delivery.
    pub fn reads_order(&self) -> bool {
        self.when.as_ref().is_some_and(Condition::reads_order)
    }

    /// Whether its `when` reads `customer.…`, so its jobs are checked again at
    /// delivery, once the directory filled what the event lacked.
    pub fn reads_customer(&self) -> bool {
        self.when.as_ref().is_some_and(Condition::reads_customer)
    }
}

impl Rules {
    /// Whether the jobs of rule `name` read `customer.…` in their `when`.
    pub fn reads_customer(&self, name: &str) -> bool {
        self.iter()
            .find(|rule| rule.name() == name)
            .is_some_and(Rule::reads_customer)
    }

    /// Whether the jobs of rule `name` are checked at delivery (a rule no longer
    /// configured is not: its jobs go out as planned).
    pub fn reads_order(&self, name: &str) -> bool {
        self.iter()
            .find(|rule| rule.name() == name)
            .is_some_and(Rule::reads_order)
    }

    /// Checks rule `name`'s `when` again for `event` with its order as `view`
    /// shows it.
    ///
    /// # Errors
    /// Why the job is skipped: the `order.…` comparisons as they came out.
    pub fn check_at_delivery(
        &self,
        name: &str,
        event: &Event,
        view: OrderView,
    ) -> Result<(), String> {
        let Some(when) = self
            .iter()
            .find(|rule| rule.name() == name)
            .and_then(Rule::when)
        else {
            return Ok(());
        };
        let scope = DeliveryScope {
            event: EventScope::new(event),
            order: view.to_value(),
        };
        let (holds, steps) = when.explain(&scope);
        if holds {
            return Ok(());
        }
        let order: Vec<String> = steps
            .iter()
            // The order's comparisons, and a customer's that came out false (its
            // field was not in the directory either).
            .filter(|step| {
                ORDER_PATHS.iter().any(|path| step.text.starts_with(path))
                    || (step.text.starts_with("customer.") && !step.result)
            })
            .map(Comparison::line)
            .collect();
        Err(format!(
            "`when` no longer holds at delivery: {}",
            order.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use herald_plugin_api::Customer;
    use herald_plugin_orders::OrderStatus::{PaymentFailed, Pending, Refunded};

    use super::*;
    use crate::rules::{Action, EventPattern};

    fn event(id: &str, kind: &str, created: i64) -> Event {
        Event {
            id: id.into(),
            source: "stripe".into(),
            kind: kind.into(),
            created,
            livemode: false,
            api_version: None,
            object_id: None,
            order_id: Some("A17".into()),
            links: Vec::new(),
            customer: Customer::default(),
            amount: None,
            currency: None,
            raw: json!({ "type": kind, "data": { "object": {
                "amount": 4998, "amount_refunded": 4998, "refunded": true
            } } })
            .into(),
        }
    }

    /// The scenario of issue 21: the failure came first, but arrives after the
    /// payment and the refund.
    fn history() -> (Event, Vec<Event>) {
        let failed = event("evt_failed", "payment_intent.payment_failed", 100);
        let stored = vec![
            event("evt_created", "payment_intent.created", 110),
            event("evt_paid", "payment_intent.succeeded", 120),
            event("evt_refund", "charge.refunded", 200),
            failed.clone(),
        ];
        (failed, stored)
    }

    #[test]
    fn a_late_failure_sees_the_order_as_it_is_now() {
        let (failed, stored) = history();
        let view = OrderView::of(&failed, &[], &stored);
        assert_eq!(
            view,
            OrderView {
                status: Some(Refunded),
                previous_status: None,
                changed: true,
                on_hold: false,
            }
        );
        // Arrival order does not matter: only what is known.
        let mut reversed = stored.clone();
        reversed.reverse();
        assert_eq!(OrderView::of(&failed, &[], &reversed), view);
    }

    #[test]
    fn alone_a_failure_moves_the_order_and_a_stale_one_does_not() {
        let failed = event("evt_failed", "payment_intent.payment_failed", 100);
        let view = OrderView::of(&failed, &[], &[]);
        assert_eq!((view.status, view.changed), (Some(PaymentFailed), true));

        let created = event("evt_created", "payment_intent.created", 50);
        let late = event("evt_stale", "payment_intent.created", 150);
        let view = OrderView::of(&late, &[], &[created, failed]);
        assert_eq!(view.previous_status, Some(PaymentFailed));
        assert!(!view.changed);

        let unknown = event("evt_sub", "customer.subscription.created", 150);
        let view = OrderView::of(&unknown, &[], &[]);
        assert_eq!(view, OrderView::default());
    }

    #[test]
    fn a_recorded_fact_wins_over_the_event_type() {
        let (failed, stored) = history();
        let forced = Fact {
            event_id: "evt_refund".into(),
            event_type: "charge.refunded".into(),
            created: 200,
            signal: Pending.into(),
            amount: None,
        };
        let view = OrderView::of(&failed, &[forced], &stored);
        assert_eq!(view.status, Some(herald_plugin_orders::OrderStatus::Paid));
    }

    #[test]
    fn a_job_is_skipped_with_the_comparisons_that_failed() {
        let when = "order.changed and order.status == 'payment_failed'";
        let rule = Rule::new(
            "payment-failed".into(),
            vec![EventPattern::parse("payment_intent.payment_failed").unwrap()],
            Some(Condition::parse(when).unwrap()),
            vec![Action::new("mail".into(), serde_json::Map::new())],
        );
        let rules = Rules::new(vec![rule]);
        assert!(rules.reads_order("payment-failed"));
        assert!(!rules.reads_order("gone"));
        let (failed, stored) = history();
        let view = OrderView::of(&failed, &[], &stored);
        let reason = rules
            .check_at_delivery("payment-failed", &failed, view)
            .unwrap_err();
        assert_eq!(
            reason,
            "`when` no longer holds at delivery: order.changed → true (true), \
             order.status == \"payment_failed\" → false (\"refunded\")"
        );
        let alone = OrderView::of(&failed, &[], &[]);
        assert_eq!(
            rules.check_at_delivery("payment-failed", &failed, alone),
            Ok(())
        );
        // A rule removed by a reload no longer decides anything.
        assert_eq!(rules.check_at_delivery("gone", &failed, view), Ok(()));
        // Planned all the same: the order part waits for delivery.
        assert_eq!(rules.plan(&failed).len(), 1);
    }
}
