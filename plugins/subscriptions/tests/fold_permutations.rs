//! The subscription fold as the orders fold is proven: every arrival order of a
//! realistic life ends in the same state, through the fold and through a ledger, and
//! a stale event never re-grants access after a revocation.

use herald_plugin_subscriptions::ledger::SubscriptionLedger;
use herald_plugin_subscriptions::{
    fold, Access, Item, MemoryLedger, Observation, Snapshot, SubscriptionFact, SubscriptionStatus,
};

const SUB: &str = "sub_1";

fn snapshot(status: SubscriptionStatus, cancel_at_period_end: bool, deleted: bool) -> Observation {
    Observation::Snapshot(Snapshot {
        customer: Some("cus_1".into()),
        status,
        items: vec![Item {
            price: Some("price_monthly".into()),
            product: Some("prod_coffee".into()),
            nickname: Some("Coffee club monthly".into()),
            quantity: Some(1),
        }],
        current_period_end: Some(2_000),
        cancel_at_period_end,
        cancel_at: None,
        trial_end: None,
        latest_invoice: None,
        deleted,
    })
}

fn fact(id: &str, kind: &str, created: i64, observation: Observation) -> SubscriptionFact {
    SubscriptionFact {
        event_id: id.into(),
        event_type: kind.into(),
        created,
        observation,
    }
}

fn invoice(id: &str, kind: &str, created: i64, invoice: &str, status: &str) -> SubscriptionFact {
    let observation = Observation::Invoice {
        id: invoice.into(),
        status: Some(status.into()),
    };
    fact(id, kind, created, observation)
}

/// Created, paid, a renewal failed twice, paid again, canceled at period end, deleted.
fn life() -> Vec<SubscriptionFact> {
    use SubscriptionStatus::{Active, Canceled, Incomplete, PastDue};
    vec![
        fact(
            "e1",
            "customer.subscription.created",
            10,
            snapshot(Incomplete, false, false),
        ),
        fact(
            "e2",
            "customer.subscription.updated",
            11,
            snapshot(Active, false, false),
        ),
        invoice("e3", "invoice.payment_failed", 20, "in_2", "open"),
        fact(
            "e4",
            "customer.subscription.updated",
            20,
            snapshot(PastDue, false, false),
        ),
        invoice("e5", "invoice.paid", 30, "in_2", "paid"),
        fact(
            "e6",
            "customer.subscription.updated",
            40,
            snapshot(Active, true, false),
        ),
        fact(
            "e7",
            "customer.subscription.deleted",
            50,
            snapshot(Canceled, true, true),
        ),
    ]
}

/// Every permutation of `items` (Heap's algorithm), each handed to `visit`.
fn permutations<T: Clone>(items: &mut [T], k: usize, visit: &mut dyn FnMut(&[T])) {
    if k <= 1 {
        visit(items);
        return;
    }
    for i in 0..k {
        permutations(items, k - 1, visit);
        let swap = if k % 2 == 0 { i } else { 0 };
        items.swap(swap, k - 1);
    }
}

#[test]
fn every_arrival_order_of_a_life_ends_in_the_same_state() {
    let access = Access::default();
    let facts = life();
    let expected = fold(SUB, &facts, &access).expect("a state");
    assert_eq!(expected.status, SubscriptionStatus::Canceled);
    assert!(!expected.access && expected.deleted);
    assert_eq!(expected.latest_invoice.as_deref(), Some("in_2"));
    let mut count = 0;
    permutations(&mut facts.clone(), facts.len(), &mut |order| {
        count += 1;
        assert_eq!(
            fold(SUB, order, &access).as_ref(),
            Some(&expected),
            "{order:?}"
        );
    });
    assert_eq!(count, 5040);
}

#[tokio::test]
async fn through_a_ledger_any_order_ends_alike_and_a_stale_event_never_regrants() {
    let access = Access::default();
    let folding = move |id: &str, facts: &[SubscriptionFact]| fold(id, facts, &access);
    let facts = life();
    let expected = fold(SUB, &facts, &Access::default());
    let mut orders = Vec::new();
    permutations(&mut facts.clone(), facts.len(), &mut |order| {
        orders.push(order.to_vec());
    });
    for order in orders.iter().step_by(97) {
        let ledger = MemoryLedger::new();
        let mut granted_after_revocation = false;
        let mut revoked = false;
        for fact in order {
            let recorded = ledger.apply(SUB, fact, &folding).await.expect("apply");
            let access = recorded.state.as_ref().is_some_and(|state| state.access);
            granted_after_revocation |= revoked && access;
            revoked |= recorded.state.as_ref().is_some_and(|state| state.deleted);
        }
        assert!(!granted_after_revocation, "{order:?}");
        let state = ledger.get(SUB).await.expect("get").map(|(state, _)| state);
        assert_eq!(state, expected, "{order:?}");
    }
}

#[tokio::test]
async fn the_callback_flag_is_set_once_per_change_and_kept_for_a_retry() {
    let access = Access::default();
    let folding = move |id: &str, facts: &[SubscriptionFact]| fold(id, facts, &access);
    let ledger = MemoryLedger::new();
    let facts = life();
    let changed = |recorded: herald_plugin_subscriptions::ledger::Recorded| recorded.changed;
    // The newest first: it changes everything; the stale ones after it change nothing.
    assert!(changed(
        ledger.apply(SUB, &facts[6], &folding).await.unwrap()
    ));
    for stale in &facts[..6] {
        assert!(
            !changed(ledger.apply(SUB, stale, &folding).await.unwrap()),
            "{stale:?}"
        );
    }
    // The same event again (a retried job): the same answer.
    assert!(changed(
        ledger.apply(SUB, &facts[6], &folding).await.unwrap()
    ));
}
