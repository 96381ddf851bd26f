//! The order ledger contract: herald's database implements [`OrderLedger`], the
//! orders plugin decides what each fact means.
//!
//! It lives here, not in the orders plugin, so [`BuildContext`](crate::BuildContext)
//! can hand a ledger to that plugin without the plugin (or herald's plugin list)
//! seeing herald's store.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

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

/// What one event says about its order: a status it moves towards (set if the move is
/// legal), or a hold put on or lifted.
///
/// A hold sits beside the status, never instead of it: a fraud warning stops an order
/// being shipped whether it is paid, refunded or disputed. Stored and written in config
/// by name: a status's name, `hold` or `release`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Signal {
    /// Move towards this status.
    Status(OrderStatus),
    /// Put the order on hold (an early fraud warning, a review opened).
    Hold,
    /// Lift the hold (a review closed as approved).
    Release,
}

impl Signal {
    /// The status it moves towards; `None` for a hold or a release.
    pub fn status(self) -> Option<OrderStatus> {
        match self {
            Self::Status(status) => Some(status),
            Self::Hold | Self::Release => None,
        }
    }

    /// Its name in config, storage and logs: a status's name, `hold` or `release`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status(status) => status.as_str(),
            Self::Hold => "hold",
            Self::Release => "release",
        }
    }

    /// Orders facts that share a `created` second (see [`OrderStatus::rank`]); a
    /// hold comes after every status and a release after the hold, so a review opened
    /// and approved in one second ends released.
    pub fn rank(self) -> u8 {
        match self {
            Self::Status(status) => status.rank(),
            Self::Hold => 6,
            Self::Release => 7,
        }
    }

    /// The valid names, comma-separated, for error messages.
    pub fn names() -> String {
        format!("{}, hold, release", OrderStatus::names())
    }
}

impl From<OrderStatus> for Signal {
    fn from(status: OrderStatus) -> Self {
        Self::Status(status)
    }
}

impl From<Signal> for String {
    fn from(signal: Signal) -> Self {
        signal.as_str().to_owned()
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signal name that is neither a status's nor `hold`/`release`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order signal `{0}` (expected one of: {names})", names = Signal::names())]
pub struct UnknownSignal(pub String);

impl FromStr for Signal {
    type Err = UnknownSignal;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hold" => Ok(Self::Hold),
            "release" => Ok(Self::Release),
            _ => s
                .parse()
                .map(Self::Status)
                .map_err(|_| UnknownSignal(s.to_owned())),
        }
    }
}

impl TryFrom<String> for Signal {
    type Error = UnknownSignal;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

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

/// What one event says about one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// The provider's event id; an order records each event once.
    pub event_id: String,
    /// The provider's event type, for the operator.
    pub event_type: String,
    /// When the provider created the event (Unix seconds): facts are folded in this order.
    pub created: i64,
    /// What the event says: a status to move towards, or a hold put on or lifted.
    pub signal: Signal,
    /// An amount the signal carries (refunded so far, for refunds), in minor units.
    pub amount: Option<i64>,
}

/// An order's status, as computed from all its facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    pub order_id: String,
    pub status: OrderStatus,
    /// The fact that set the status: its event id and `created`.
    pub decided_by: String,
    pub decided_at: i64,
    /// How many facts the status was computed from.
    pub facts: usize,
    /// Whether the order is held (a fraud warning or an open review): the shop
    /// should not ship it, whatever its status.
    #[serde(default)]
    pub on_hold: bool,
}

/// The ledger could not be read or written; the delivery is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order ledger: {0}")]
pub struct LedgerError(pub String);

/// Folds an order's facts (all of them, in any order) into its state; `None` when
/// no fact gives the order a status.
pub type Fold = dyn Fn(&str, &[Fact]) -> Option<OrderState> + Send + Sync;

/// Durable storage of order facts and statuses, shared by every herald replica.
#[async_trait]
pub trait OrderLedger: Send + Sync {
    /// In one transaction, serialized per order: records `fact` for `order_id` (a
    /// fact with an event id already recorded for the order is not added twice),
    /// folds all the order's facts with `fold`, and saves the resulting state.
    /// Returns the saved state.
    ///
    /// # Errors
    /// When the database fails; nothing is saved then.
    async fn apply(
        &self,
        order_id: &str,
        fact: &Fact,
        fold: &Fold,
    ) -> Result<Option<OrderState>, LedgerError>;

    /// The order's saved state and its facts, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    async fn get(&self, order_id: &str) -> Result<Option<(OrderState, Vec<Fact>)>, LedgerError>;
}
