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

    /// Stock levels, by SKU; all SKUs when `sku` is `None`.
    ///
    /// # Errors
    /// When the database fails.
    async fn levels(&self, sku: Option<&str>) -> Result<Vec<(String, i64)>, LedgerError>;
}

#[cfg(test)]
mod tests {
    use super::*;

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
