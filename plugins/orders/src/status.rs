//! Order statuses and the fold that computes one from an order's facts.
//!
//! This is the heart of the deliver stage's orders plugin: [`fold`] is pure, so the
//! same facts give the same status whatever order they arrived in, and herald's
//! ledger can call it inside its transaction.

pub use herald_plugin_api::ledger::orders::{OrderStatus, Signal, UnknownSignal, UnknownStatus};

use crate::ledger::{Fact, OrderState};

/// Whether an order may move from `from` (`None`: no status yet) to `to`.
///
/// Nothing goes back to `pending`, and `paid` never goes back to `payment_failed`, so
/// a late or replayed event cannot undo a payment.
pub fn can_move(from: Option<OrderStatus>, to: OrderStatus) -> bool {
    use OrderStatus::{
        Canceled, Disputed, Paid, PartiallyRefunded, PaymentFailed, Pending, Refunded,
    };
    let Some(from) = from else { return true };
    match from {
        Pending => matches!(to, Paid | PaymentFailed | Canceled),
        PaymentFailed => matches!(to, Paid | PaymentFailed | Canceled),
        // A payment that lands after the checkout expired still took the money.
        Canceled => matches!(to, Paid),
        Paid => matches!(to, PartiallyRefunded | Refunded | Disputed),
        PartiallyRefunded => matches!(to, PartiallyRefunded | Refunded | Disputed),
        // Lost disputes end refunded, won ones paid.
        Disputed => matches!(to, Refunded | Paid),
        Refunded => matches!(to, Disputed),
    }
}

/// Computes an order's state from all its facts, in any order.
///
/// Facts are sorted by `created`, then the signal's [`Signal::rank`], then event id
/// (so even identical timestamps and signals fold the same way every time), and each
/// fact's status applies only if [`can_move`] allows it; skipped facts still count in
/// [`OrderState::facts`]. `decided_by`/`decided_at` name the last status applied; the
/// hold is the last hold or release. `None` until a fact gives the order a status (a
/// hold that arrives first waits in the facts for it).
pub fn fold(order_id: &str, facts: &[Fact]) -> Option<OrderState> {
    let steps = history(facts);
    let last = steps
        .iter()
        .rfind(|step| step.applied && step.fact.signal.status().is_some())?;
    Some(OrderState {
        order_id: order_id.to_owned(),
        status: last.after?,
        decided_by: last.fact.event_id.clone(),
        decided_at: last.fact.created,
        facts: facts.len(),
        on_hold: steps.last().is_some_and(|step| step.on_hold),
    })
}

/// One fact's entry in an order's folded history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<'a> {
    /// The fact.
    pub fact: &'a Fact,
    /// The status just before it (`None`: no status yet).
    pub before: Option<OrderStatus>,
    /// The status just after it: its own if it applied, `before` otherwise.
    pub after: Option<OrderStatus>,
    /// Whether the order is held just after it.
    pub on_hold: bool,
    /// Whether it changed anything: a status [`can_move`] allowed, or a hold put on or
    /// lifted.
    pub applied: bool,
}

/// Every fact in the order [`fold`] applies them, with the status each found.
pub fn history(facts: &[Fact]) -> Vec<Step<'_>> {
    let mut sorted: Vec<&Fact> = facts.iter().collect();
    sorted.sort_by(|a, b| {
        (a.created, a.signal.rank(), &a.event_id).cmp(&(b.created, b.signal.rank(), &b.event_id))
    });
    let mut current = None;
    let mut held = false;
    sorted
        .into_iter()
        .map(|fact| {
            let before = current;
            let was_held = held;
            let applied = match fact.signal {
                Signal::Status(status) => {
                    let legal = can_move(before, status);
                    if legal {
                        current = Some(status);
                    }
                    legal
                }
                Signal::Hold => {
                    held = true;
                    !was_held
                }
                Signal::Release => {
                    held = false;
                    was_held
                }
            };
            Step {
                fact,
                before,
                after: current,
                on_hold: held,
                applied,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    fn fact(id: &str, created: i64, signal: impl Into<Signal>) -> Fact {
        Fact {
            event_id: id.to_owned(),
            event_type: "test".to_owned(),
            created,
            signal: signal.into(),
            amount: None,
        }
    }

    #[test]
    fn can_move_table() {
        let legal: &[(OrderStatus, &[OrderStatus])] = &[
            (Pending, &[Paid, PaymentFailed, Canceled]),
            (PaymentFailed, &[Paid, PaymentFailed, Canceled]),
            (Canceled, &[Paid]),
            (Paid, &[PartiallyRefunded, Refunded, Disputed]),
            (PartiallyRefunded, &[PartiallyRefunded, Refunded, Disputed]),
            (Disputed, &[Refunded, Paid]),
            (Refunded, &[Disputed]),
        ];
        for &(from, tos) in legal {
            for to in OrderStatus::ALL {
                assert_eq!(
                    can_move(Some(from), to),
                    tos.contains(&to),
                    "{from} -> {to}"
                );
            }
        }
        assert_eq!(legal.len(), OrderStatus::ALL.len());
    }

    #[test]
    fn anything_goes_from_no_status_and_nothing_back_to_pending() {
        for to in OrderStatus::ALL {
            assert!(can_move(None, to));
        }
        for from in OrderStatus::ALL {
            assert!(!can_move(Some(from), Pending), "{from} -> pending");
        }
        assert!(!can_move(Some(Paid), PaymentFailed));
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
        }
        let err = "shipped".parse::<OrderStatus>().unwrap_err();
        assert!(err.to_string().contains("partially_refunded"), "{err}");
    }

    #[test]
    fn fold_of_nothing_is_none() {
        assert_eq!(fold("o", &[]), None);
    }

    #[test]
    fn ties_fold_by_rank_then_event_id() {
        let facts = [fact("b", 10, Refunded), fact("a", 10, Paid)];
        let state = fold("o", &facts).unwrap();
        assert_eq!((state.status, state.decided_by.as_str()), (Refunded, "b"));
        assert_eq!(state.facts, 2);

        // Two paid facts at the same second: the first by id decides, the second is skipped.
        let facts = [fact("z", 10, Paid), fact("y", 10, Paid)];
        assert_eq!(fold("o", &facts).unwrap().decided_by, "y");
    }

    #[test]
    fn skipped_facts_still_count() {
        let facts = [fact("p", 1, Paid), fact("late", 5, Pending)];
        let state = fold("o", &facts).unwrap();
        assert_eq!(state.status, Paid);
        assert_eq!((state.decided_by.as_str(), state.decided_at), ("p", 1));
        assert_eq!(state.facts, 2);
    }

    #[test]
    fn history_shows_what_each_fact_found() {
        let facts = [fact("late", 5, Pending), fact("p", 1, Paid)];
        let steps: Vec<_> = history(&facts)
            .iter()
            .map(|s| (s.fact.event_id.as_str(), s.before, s.applied))
            .collect();
        assert_eq!(steps, [("p", None, true), ("late", Some(Paid), false)]);
    }

    #[test]
    fn a_dispute_won_or_lost() {
        let base = [fact("p", 1, Paid), fact("d", 2, Disputed)];
        let won = [base[0].clone(), base[1].clone(), fact("w", 3, Paid)];
        let lost = [base[0].clone(), base[1].clone(), fact("l", 3, Refunded)];
        assert_eq!(fold("o", &base).unwrap().status, Disputed);
        assert_eq!(fold("o", &won).unwrap().status, Paid);
        assert_eq!(fold("o", &lost).unwrap().status, Refunded);
    }

    #[test]
    fn a_hold_sits_beside_the_status_in_any_order() {
        let paid = fact("p", 1, Paid);
        let hold = fact("h", 2, Signal::Hold);
        let release = fact("r", 3, Signal::Release);
        let held = fold("o", &[hold.clone(), paid.clone()]).unwrap();
        assert_eq!((held.status, held.on_hold), (Paid, true));
        assert_eq!(held.decided_by, "p");
        let released = fold("o", &[release, paid.clone(), hold.clone()]).unwrap();
        assert_eq!((released.status, released.on_hold), (Paid, false));
        // A hold alone gives no status yet: it waits in the facts.
        assert_eq!(fold("o", std::slice::from_ref(&hold)), None);
        // A refund on a held order keeps it held.
        let refunded = fold("o", &[paid, hold, fact("f", 4, Refunded)]).unwrap();
        assert_eq!((refunded.status, refunded.on_hold), (Refunded, true));
    }

    #[test]
    fn signal_names_round_trip() {
        for name in ["paid", "hold", "release", "partially_refunded"] {
            let signal: Signal = name.parse().unwrap();
            assert_eq!(signal.as_str(), name);
            assert_eq!(serde_json::to_value(signal).unwrap(), name);
        }
        let err = "shipped".parse::<Signal>().unwrap_err();
        assert!(err.to_string().contains("hold, release"), "{err}");
    }
}
