//! Where subscriptions live: herald's database implements [`SubscriptionLedger`]; the
//! plugin decides what each event means. The contract is defined in
//! `herald_plugin_api::ledger::subscriptions`; these are the same types.

pub use herald_plugin_api::ledger::subscriptions::{
    terms_changed, Entitlements, Item, LedgerError, Observation, Recorded, Snapshot,
    SubscriptionFact, SubscriptionFilter, SubscriptionFold, SubscriptionLedger, SubscriptionState,
    SubscriptionStatus,
};
