//! The subscription ledger contract: herald's database implements
//! [`SubscriptionLedger`], the subscriptions plugin decides what each event means.
//!
//! Stripe sends each `customer.subscription.*` event with the whole subscription as it
//! stood, so an event is kept as an [`Observation`] of it and the state is the newest
//! observation by `created` ([`SubscriptionFold`]), whatever order they arrive in.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use super::orders::LedgerError;

/// A subscription's status, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Unpaid,
    Canceled,
    Paused,
}

impl SubscriptionStatus {
    /// Every status.
    pub const ALL: [Self; 8] = [
        Self::Incomplete,
        Self::IncompleteExpired,
        Self::Trialing,
        Self::Active,
        Self::PastDue,
        Self::Unpaid,
        Self::Canceled,
        Self::Paused,
    ];

    /// Its name in Stripe's API and herald's config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Unpaid => "unpaid",
            Self::Canceled => "canceled",
            Self::Paused => "paused",
        }
    }

    /// The valid names, comma-separated, for error messages.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubscriptionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown subscription status `{s}` (expected one of: {})",
                    Self::names()
                )
            })
    }
}

/// One line of a subscription: what is subscribed to, how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub price: Option<String>,
    pub product: Option<String>,
    pub nickname: Option<String>,
    pub quantity: Option<i64>,
}

/// A subscription as one `customer.subscription.*` event showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub customer: Option<String>,
    pub status: SubscriptionStatus,
    pub items: Vec<Item>,
    /// The latest of its items' period ends (Unix seconds): billing periods sit on
    /// the items.
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub trial_end: Option<i64>,
    pub latest_invoice: Option<String>,
    /// `customer.subscription.deleted`: the subscription is over for good.
    pub deleted: bool,
}

/// What one event tells of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    /// The whole subscription, from a `customer.subscription.*` event.
    Snapshot(Snapshot),
    /// One of its invoices, from an `invoice.*` event.
    Invoice {
        /// The invoice's id.
        id: String,
        /// The invoice's status (`open`, `paid`, …).
        status: Option<String>,
    },
}

/// One event's observation of one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionFact {
    /// The provider's event id; a subscription records each event once.
    pub event_id: String,
    pub event_type: String,
    /// When the provider created the event (Unix seconds): the newest wins.
    pub created: i64,
    pub observation: Observation,
}

/// A subscription as all its facts leave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionState {
    pub id: String,
    pub customer: Option<String>,
    pub status: SubscriptionStatus,
    /// Whether the subscriber has access, by the plugin's policy for the status.
    pub access: bool,
    pub items: Vec<Item>,
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub trial_end: Option<i64>,
    pub latest_invoice: Option<String>,
    /// Whether Stripe deleted it (status `canceled` for good).
    pub deleted: bool,
    /// The event whose snapshot decided the state, and its `created`.
    pub decided_by: String,
    pub decided_at: i64,
    /// How many facts the state was folded from.
    pub facts: usize,
}

impl SubscriptionState {
    /// What a storefront acts on: access, status, plan and cancellation. A change in
    /// any of these is sent to the callback; a renewal that changes none is not.
    pub fn terms(&self) -> impl PartialEq + '_ {
        (
            self.access,
            self.status,
            &self.items,
            self.cancel_at_period_end,
            self.cancel_at,
        )
    }
}

/// Whether going from `old` to `new` (each `None` before the subscription shows)
/// changes what a storefront acts on ([`SubscriptionState::terms`]): a first state
/// does, a state that stays away does not.
pub fn terms_changed(old: Option<&SubscriptionState>, new: Option<&SubscriptionState>) -> bool {
    match (old, new) {
        (Some(old), Some(new)) => old.terms() != new.terms(),
        (None, Some(_)) => true,
        (_, None) => false,
    }
}

/// Folds a subscription's facts (all of them, any order) into its state; `None`
/// while no fact shows the subscription itself.
pub type SubscriptionFold =
    dyn Fn(&str, &[SubscriptionFact]) -> Option<SubscriptionState> + Send + Sync;

/// What recording one fact did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The subscription's state after it.
    pub state: Option<SubscriptionState>,
    /// Whether the fact changed the subscription's [`SubscriptionState::terms`] when it
    /// was recorded; the same answer when the same event is recorded again, so a
    /// retried callback is sent again and a stale event never sends one.
    pub changed: bool,
}

/// A customer's active entitlements, as the newest summary event listed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlements {
    pub customer: String,
    /// The features' lookup keys (their ids when they have none).
    pub features: Vec<String>,
    /// The summary event's `created`.
    pub created: i64,
}

/// Which subscriptions a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionFilter {
    pub status: Option<SubscriptionStatus>,
    pub customer: Option<String>,
    /// At most this many, the most recently changed first.
    pub limit: usize,
}

/// Durable storage of subscription facts and states, shared by every replica.
#[async_trait]
pub trait SubscriptionLedger: Send + Sync {
    /// In one transaction, serialized per subscription: records `fact` for
    /// `subscription_id` (once per event id), folds all its facts with `fold` and
    /// saves the state.
    ///
    /// # Errors
    /// When the database fails; nothing is saved then.
    async fn apply(
        &self,
        subscription_id: &str,
        fact: &SubscriptionFact,
        fold: &SubscriptionFold,
    ) -> Result<Recorded, LedgerError>;

    /// A subscription's saved state and its facts, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    async fn get(
        &self,
        subscription_id: &str,
    ) -> Result<Option<(SubscriptionState, Vec<SubscriptionFact>)>, LedgerError>;

    /// Saved states, the most recently changed first.
    ///
    /// # Errors
    /// When the database fails.
    async fn list(
        &self,
        filter: &SubscriptionFilter,
    ) -> Result<Vec<SubscriptionState>, LedgerError>;

    /// Records `entitlements` unless a newer summary of the customer was recorded.
    ///
    /// # Errors
    /// When the database fails.
    async fn set_entitlements(&self, entitlements: &Entitlements) -> Result<(), LedgerError>;

    /// The customer's active entitlements, as the newest summary listed them.
    ///
    /// # Errors
    /// When the database fails.
    async fn entitlements(&self, customer: &str) -> Result<Vec<String>, LedgerError>;
}
