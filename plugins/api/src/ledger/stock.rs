//! The stock ledger contract: herald's database implements [`StockLedger`], the
//! inventory plugin decides which moves an event makes.
//!
//! It lives here, not in the inventory plugin, so [`BuildContext`](crate::BuildContext)
//! can hand a ledger to that plugin without herald's plugin list seeing the store.
//!
//! Levels are `i64`, and every implementation refuses an adjustment that would take
//! one past that range ([`net_moves`], [`checked_level`]) before it writes anything:
//! a wrapped or floating-point level would be wrong for good, and an overflow is a
//! permanent failure that no retry can fix.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One change to one SKU's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMove {
    pub sku: String,
    /// Negative when stock leaves (an order is paid), positive when it comes back.
    pub delta: i64,
}

impl StockMove {
    /// A move of `delta` units of `sku`.
    pub fn new(sku: impl Into<String>, delta: i64) -> Self {
        Self {
            sku: sku.into(),
            delta,
        }
    }
}

/// Why the ledger refused or failed an adjustment. Nothing is applied in either case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The database could not be read or written; the delivery is retried.
    #[error("stock ledger: {0}")]
    Unavailable(String),
    /// The adjustment would take a level past what the ledger holds; permanent.
    #[error("stock ledger: {0}")]
    Overflow(#[from] StockOverflow),
}

impl LedgerError {
    /// Whether retrying the same adjustment can succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Overflow(_))
    }
}

/// An adjustment refused because a stock level would leave the `i64` range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockOverflow {
    /// One adjustment's moves for a SKU add up past the range on their own.
    #[error(
        "overflow: the moves for SKU `{sku}` add up past a 64-bit stock level; nothing applied"
    )]
    Moves {
        /// The SKU whose moves overflow.
        sku: String,
    },
    /// The level plus the adjustment's net move for a SKU is out of range.
    #[error(
        "overflow: SKU `{sku}` is at {level}, and {delta:+} would take it past a 64-bit \
         stock level; nothing applied"
    )]
    Level {
        /// The SKU whose level would overflow.
        sku: String,
        /// Its level now.
        level: i64,
        /// The adjustment's net move for it.
        delta: i64,
    },
}

/// One adjustment's moves with each SKU once (in order of first appearance), its
/// deltas added with checked arithmetic.
///
/// # Errors
/// When one SKU's deltas add up past `i64`.
pub fn net_moves(moves: &[StockMove]) -> Result<Vec<StockMove>, StockOverflow> {
    let mut net: Vec<StockMove> = Vec::with_capacity(moves.len());
    for stock_move in moves {
        match net.iter_mut().find(|known| known.sku == stock_move.sku) {
            Some(known) => {
                known.delta = known.delta.checked_add(stock_move.delta).ok_or_else(|| {
                    StockOverflow::Moves {
                        sku: stock_move.sku.clone(),
                    }
                })?;
            }
            None => net.push(stock_move.clone()),
        }
    }
    Ok(net)
}

/// `level + delta` for `sku`, or the overflow that refuses the adjustment.
///
/// # Errors
/// When the sum leaves the `i64` range.
pub fn checked_level(sku: &str, level: i64, delta: i64) -> Result<i64, StockOverflow> {
    level
        .checked_add(delta)
        .ok_or_else(|| StockOverflow::Level {
            sku: sku.to_owned(),
            level,
            delta,
        })
}

/// What one event does to its order's stock. An order's stock is taken once, by the
/// first of its announcements (checkout, payment, charge, paid invoice) to arrive, and
/// never more than it took is put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderLines {
    /// The order's lines leave stock (positive quantities); only the first take counts.
    Take(Vec<StockMove>),
    /// These lines come back (positive quantities), once per `key` (a refund's id):
    /// a partial refund of named lines. Capped at what the order took.
    Return {
        /// What makes this return one: a second return under it is a repeat.
        key: String,
        /// The lines returned.
        lines: Vec<StockMove>,
    },
    /// Everything the order took and has not got back comes back: a full refund.
    ReturnAll,
}

/// The order-stock key of a take: one per order.
pub const TAKE_KEY: &str = "take";
/// The order-stock key of a full refund: one per order.
pub const RETURN_ALL_KEY: &str = "return:all";

impl OrderLines {
    /// The key that makes this change happen once per order.
    pub fn key(&self) -> &str {
        match self {
            Self::Take(_) => TAKE_KEY,
            Self::Return { key, .. } => key,
            Self::ReturnAll => RETURN_ALL_KEY,
        }
    }

    /// The lines it names (none for [`OrderLines::ReturnAll`]).
    pub fn lines(&self) -> &[StockMove] {
        match self {
            Self::Take(lines) | Self::Return { lines, .. } => lines,
            Self::ReturnAll => &[],
        }
    }
}

/// One line an event recorded against its order's stock, under its
/// [`OrderLines::key`]: the ledger keeps these and folds them with [`outstanding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStockFact {
    /// [`TAKE_KEY`], [`RETURN_ALL_KEY`] or a return's key.
    pub key: String,
    pub sku: String,
    /// Units taken or returned (positive).
    pub quantity: i64,
}

/// How many units of each SKU an order holds out of stock, from all its facts in
/// any order: what its take named, less what its returns named (never below zero),
/// nothing once it is fully refunded. A return that arrives before the take is
/// counted when the take comes, so arrival order never changes the end result.
pub fn outstanding(facts: &[OrderStockFact]) -> BTreeMap<String, i64> {
    let mut taken: BTreeMap<String, i64> = BTreeMap::new();
    let mut returned: BTreeMap<&str, i64> = BTreeMap::new();
    let mut all_back = false;
    for fact in facts {
        match fact.key.as_str() {
            RETURN_ALL_KEY => all_back = true,
            _ if fact.sku.is_empty() => {}
            TAKE_KEY => {
                let units = taken.entry(fact.sku.clone()).or_default();
                *units = units.saturating_add(fact.quantity.max(0));
            }
            _ => {
                let units = returned.entry(&fact.sku).or_default();
                *units = units.saturating_add(fact.quantity.max(0));
            }
        }
    }
    for (sku, units) in &mut taken {
        let back = returned.get(sku.as_str()).copied().unwrap_or_default();
        *units = if all_back {
            0
        } else {
            units.saturating_sub(back).max(0)
        };
    }
    taken
}

/// The level moves that take an order from holding `before` out of stock to holding
/// `after` (both from [`outstanding`]), SKUs in order: units newly held leave stock,
/// units no longer held come back.
pub fn order_moves(
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
) -> Vec<StockMove> {
    let skus: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    skus.into_iter()
        .filter_map(|sku| {
            let held = before.get(sku).copied().unwrap_or_default();
            let holds = after.get(sku).copied().unwrap_or_default();
            let delta = held.saturating_sub(holds);
            (delta != 0).then(|| StockMove::new(sku.clone(), delta))
        })
        .collect()
}

/// What [`StockLedger::apply_to_order`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderApplied {
    /// The lines were recorded; these SKUs moved (none when the order's holding did
    /// not change, e.g. a refund of lines it never took).
    Moved(Vec<Moved>),
    /// Lines under the same key were recorded before, by event `by`: the same event
    /// delivered again, or another announcement of an order already taken.
    Already {
        /// The event that recorded them.
        by: String,
    },
}

/// A SKU an adjustment moved, with its level after the move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub sku: String,
    pub delta: i64,
    /// The level after the move; it was `level - delta` before.
    pub level: i64,
}

/// Durable stock levels, shared by every herald replica.
#[async_trait]
pub trait StockLedger: Send + Sync {
    /// In one transaction: applies `moves` unless `key` (the job's idempotency key)
    /// was applied before. Returns `true` when applied now, `false` for a repeat.
    ///
    /// # Errors
    /// [`LedgerError::Overflow`] when a level would leave the `i64` range,
    /// [`LedgerError::Unavailable`] when the database fails; nothing is applied then.
    async fn apply(
        &self,
        key: &str,
        event_id: &str,
        moves: &[StockMove],
    ) -> Result<bool, LedgerError>;

    /// In one transaction, serialized per order: records `lines` for `order_id`
    /// unless its [`OrderLines::key`] was recorded for the order before, folds the
    /// order's facts with [`outstanding`], and moves each SKU's level by the
    /// difference from what the order held out before. The moves are logged under
    /// `job_key`.
    ///
    /// # Errors
    /// As [`StockLedger::apply`].
    async fn apply_to_order(
        &self,
        order_id: &str,
        job_key: &str,
        event_id: &str,
        lines: &OrderLines,
    ) -> Result<OrderApplied, LedgerError>;

    /// The moves logged under `job_key` with the levels they left (none for a key
    /// never applied), so a job delivered again can tell what its first delivery did.
    ///
    /// # Errors
    /// When the database fails.
    async fn moved_by(&self, job_key: &str) -> Result<Vec<Moved>, LedgerError>;

    /// Stock levels, by SKU; all SKUs when `sku` is `None`.
    ///
    /// # Errors
    /// When the database fails.
    async fn levels(&self, sku: Option<&str>) -> Result<Vec<(String, i64)>, LedgerError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(key: &str, sku: &str, quantity: i64) -> OrderStockFact {
        OrderStockFact {
            key: key.to_owned(),
            sku: sku.to_owned(),
            quantity,
        }
    }

    #[test]
    fn an_order_holds_what_it_took_less_what_came_back() {
        let take = [fact(TAKE_KEY, "A", 2), fact(TAKE_KEY, "B", 1)];
        let out = outstanding(&take);
        assert_eq!(out.get("A"), Some(&2));
        let mut partial = take.to_vec();
        partial.extend([fact("re_1", "A", 1), fact("re_2", "A", 5)]);
        let out = outstanding(&partial);
        assert_eq!((out.get("A"), out.get("B")), (Some(&0), Some(&1)));
        partial.push(fact(RETURN_ALL_KEY, "", 0));
        assert!(outstanding(&partial).values().all(|units| *units == 0));
        // A return before the take: the take finds it.
        let early = [fact("re_1", "A", 1), fact(TAKE_KEY, "A", 2)];
        assert_eq!(outstanding(&early).get("A"), Some(&1));
        // Markers (empty SKU) and returns of SKUs never taken hold nothing.
        let odd = [fact(TAKE_KEY, "", 0), fact("re_1", "C", 3)];
        assert!(outstanding(&odd).is_empty());
    }

    #[test]
    fn moves_of_one_sku_are_netted() {
        assert_eq!(
            net_moves(&[
                StockMove::new("A", 2),
                StockMove::new("B", 1),
                StockMove::new("A", -5)
            ]),
            Ok(vec![StockMove::new("A", -3), StockMove::new("B", 1)])
        );
    }

    #[test]
    fn moves_adding_up_past_i64_are_refused() {
        let err = net_moves(&[StockMove::new("A", i64::MAX), StockMove::new("A", 1)]).unwrap_err();
        assert_eq!(
            err,
            StockOverflow::Moves {
                sku: "A".to_owned()
            }
        );
        assert!(err.to_string().contains("overflow"), "{err}");
    }

    #[test]
    fn a_level_past_i64_is_refused_both_ways() {
        assert_eq!(checked_level("A", 5, -7), Ok(-2));
        assert!(checked_level("A", i64::MAX - 1, 2).is_err());
        let err = checked_level("A", i64::MIN, -1).unwrap_err();
        assert!(err.to_string().contains("SKU `A` is at"), "{err}");
    }
}
