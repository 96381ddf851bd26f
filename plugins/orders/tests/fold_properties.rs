//! The order fold as a property: the same facts, in any arrival order and with any
//! of them delivered again, end in the same state, through the fold and a ledger.

use std::collections::BTreeSet;

use herald_plugin_orders::{
    fold, Fact, MemoryLedger, OrderLedger, OrderState, OrderStatus, Signal,
};
use proptest::prelude::*;

const ORDER: &str = "o";

/// Every signal: each status, a hold and a release.
fn signals() -> Vec<Signal> {
    let mut signals: Vec<Signal> = OrderStatus::ALL.into_iter().map(Signal::from).collect();
    signals.extend([Signal::Hold, Signal::Release]);
    signals
}

/// Facts with distinct event ids (a ledger records an event once), on few distinct
/// seconds and signals, so ties in `created` and rank are common.
fn facts() -> impl Strategy<Value = Vec<Fact>> {
    let fact = (
        0..4_i64,
        prop::sample::select(signals()),
        any::<Option<i64>>(),
    );
    (
        proptest::collection::btree_set(any::<u16>(), 1..9),
        proptest::collection::vec(fact, 9),
    )
        .prop_map(|(ids, details): (BTreeSet<u16>, Vec<_>)| {
            ids.into_iter()
                .zip(details)
                .map(|(id, (created, signal, amount))| Fact {
                    event_id: format!("evt_{id}"),
                    event_type: "test".to_owned(),
                    created,
                    signal,
                    amount,
                })
                .collect()
        })
}

/// Two arrival orders of the same facts, the second with some delivered twice.
fn arrivals() -> impl Strategy<Value = (Vec<Fact>, Vec<Fact>, Vec<Fact>)> {
    facts().prop_flat_map(|facts| {
        let n = facts.len();
        let again = proptest::collection::vec(0..n, 0..4);
        (
            Just(facts.clone()),
            Just(facts.clone()).prop_shuffle(),
            (Just(facts), again)
                .prop_map(|(mut facts, again)| {
                    let repeats: Vec<Fact> = again.iter().map(|&i| facts[i].clone()).collect();
                    facts.extend(repeats);
                    facts
                })
                .prop_shuffle(),
        )
    })
}

/// The state a ledger holds after the facts arrive one by one.
fn through_ledger(arrival: &[Fact]) -> Option<OrderState> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let ledger = MemoryLedger::new();
        for fact in arrival {
            ledger.apply(ORDER, fact, &fold).await.expect("applied");
        }
        ledger
            .get(ORDER)
            .await
            .expect("read")
            .map(|(state, _)| state)
    })
}

proptest! {
    #[test]
    fn every_arrival_order_ends_in_the_same_state((facts, shuffled, repeated) in arrivals()) {
        let expected = fold(ORDER, &facts);
        let has_status = facts.iter().any(|fact| fact.signal.status().is_some());
        prop_assert_eq!(expected.is_some(), has_status);
        prop_assert_eq!(&fold(ORDER, &shuffled), &expected);
        prop_assert_eq!(&through_ledger(&facts), &expected);
        prop_assert_eq!(&through_ledger(&shuffled), &expected);
        prop_assert_eq!(&through_ledger(&repeated), &expected);
    }
}
