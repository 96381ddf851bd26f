//! Order statuses and the fold that computes one from an order's facts.
//!
//! This is the heart of the deliver stage's orders plugin: [`fold`] is pure, so the
//! same facts give the same status whatever order they arrived in, and herald's
//! ledger can call it inside its transaction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ledger::{Fact, OrderState};

/// An order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    PaymentFailed,
    PartiallyRefunded,
    Refunded,
    Disputed,
    Canceled,
}

/// What an event moves an order towards: the status it would set if the move is legal.
pub type Signal = OrderStatus;

impl OrderStatus {
    /// Every status, in rank order (ties broken by declaration).
    pub const ALL: [OrderStatus; 7] = [
        Self::Pending,
        Self::Canceled,
        Self::PaymentFailed,
        Self::Paid,
        Self::PartiallyRefunded,
        Self::Refunded,
        Self::Disputed,
    ];

    /// The status as written in config and logs, e.g. `payment_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::PaymentFailed => "payment_failed",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Disputed => "disputed",
            Self::Canceled => "canceled",
        }
    }

    /// Orders facts that share a `created` second: a payment's later stages rank
    /// higher, so ties fold the way the lifecycle runs whatever order they arrived in.
    pub fn rank(self) -> u8 {
        match self {
            // Cancel and create both start or end a checkout before any money moves.
            Self::Pending | Self::Canceled => 0,
            Self::PaymentFailed => 1,
            Self::Paid => 2,
            Self::PartiallyRefunded => 3,
            Self::Refunded => 4,
            Self::Disputed => 5,
        }
    }

    /// The valid names, comma-separated, for error messages.
    pub fn names() -> String {
        Self::ALL
            .iter()
            .map(|status| status.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`OrderStatus`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status `{0}` (expected one of: {names})", names = OrderStatus::names())]
pub struct UnknownStatus(pub String);

impl FromStr for OrderStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Whether an order may move from `from` (`None`: no status yet) to `to`.
///
/// Nothing goes back to `pending`, and `paid` never goes back to `payment_failed`, so
/// a late or replayed event cannot undo a payment.
pub fn can_move(from: Option<OrderStatus>, to: OrderStatus) -> bool {
    use OrderStatus::*;
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
/// Facts are sorted by `created`, then the signal's [`OrderStatus::rank`], then event id
/// (so even identical timestamps and signals fold the same way every time), and each
/// fact's signal applies only if [`can_move`] allows it; skipped facts still count in
/// [`OrderState::facts`]. `decided_by`/`decided_at` name the last fact applied. `None`
/// when there are no facts.
pub fn fold(order_id: &str, facts: &[Fact]) -> Option<OrderState> {
    let mut sorted: Vec<&Fact> = facts.iter().collect();
    sorted.sort_by(|a, b| {
        (a.created, a.signal.rank(), &a.event_id).cmp(&(b.created, b.signal.rank(), &b.event_id))
    });
    let mut current: Option<(OrderStatus, &Fact)> = None;
    for fact in sorted {
        if can_move(current.map(|(status, _)| status), fact.signal) {
            current = Some((fact.signal, fact));
        }
    }
    current.map(|(status, fact)| OrderState {
        order_id: order_id.to_owned(),
        status,
        decided_by: fact.event_id.clone(),
        decided_at: fact.created,
        facts: facts.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    fn fact(id: &str, created: i64, signal: Signal) -> Fact {
        Fact {
            event_id: id.to_owned(),
            event_type: "test".to_owned(),
            created,
            signal,
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
    fn a_dispute_won_or_lost() {
        let base = [fact("p", 1, Paid), fact("d", 2, Disputed)];
        let won = [base[0].clone(), base[1].clone(), fact("w", 3, Paid)];
        let lost = [base[0].clone(), base[1].clone(), fact("l", 3, Refunded)];
        assert_eq!(fold("o", &base).unwrap().status, Disputed);
        assert_eq!(fold("o", &won).unwrap().status, Paid);
        assert_eq!(fold("o", &lost).unwrap().status, Refunded);
    }
}
