//! A subscription's state from all its facts, in any arrival order: the newest
//! snapshot by `created` decides, a deletion is final, and the latest invoice is the
//! newest one seen on a snapshot or an invoice event.

use crate::access::Access;
use crate::ledger::{Observation, Snapshot, SubscriptionFact, SubscriptionState};

/// Orders facts that share a `created` second: a creation before an update before a
/// deletion, whatever order they came in; then event ids.
fn rank(fact: &SubscriptionFact) -> u8 {
    match fact.event_type.rsplit('.').next() {
        Some("created") => 0,
        Some("deleted") => 2,
        _ => 1,
    }
}

/// Folds `facts` into the state of subscription `id`, access by `access`; `None`
/// while no fact shows the subscription itself (only invoices so far).
pub fn fold(id: &str, facts: &[SubscriptionFact], access: &Access) -> Option<SubscriptionState> {
    let mut sorted: Vec<&SubscriptionFact> = facts.iter().collect();
    sorted
        .sort_by(|a, b| (a.created, rank(a), &a.event_id).cmp(&(b.created, rank(b), &b.event_id)));
    let mut decided: Option<(&SubscriptionFact, &Snapshot)> = None;
    let mut invoice: Option<(i64, &str)> = None;
    for fact in sorted {
        match &fact.observation {
            Observation::Snapshot(snapshot) => {
                // Nothing comes after a deletion: Stripe never revives a subscription.
                if decided.is_some_and(|(_, current)| current.deleted) {
                    continue;
                }
                decided = Some((fact, snapshot));
                if let Some(latest) = &snapshot.latest_invoice {
                    invoice = Some((fact.created, latest));
                }
            }
            Observation::Invoice { id, .. } => invoice = Some((fact.created, id)),
        }
    }
    let (fact, snapshot) = decided?;
    Some(SubscriptionState {
        id: id.to_owned(),
        customer: snapshot.customer.clone(),
        status: snapshot.status,
        access: !snapshot.deleted && access.grants(snapshot.status),
        items: snapshot.items.clone(),
        current_period_end: snapshot.current_period_end,
        cancel_at_period_end: snapshot.cancel_at_period_end,
        cancel_at: snapshot.cancel_at,
        trial_end: snapshot.trial_end,
        latest_invoice: invoice.map(|(_, id)| id.to_owned()),
        deleted: snapshot.deleted,
        decided_by: fact.event_id.clone(),
        decided_at: fact.created,
        facts: facts.len(),
    })
}
