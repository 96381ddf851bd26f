//! Where order facts live: herald's database implements [`OrderLedger`]; the
//! plugin only decides what a fact means.
//!
//! The contract itself is defined in `herald_plugin_api::ledger::orders`, so herald
//! can hand a ledger over in the [`BuildContext`](herald_plugin_api::BuildContext);
//! these are the same types, under the path herald's store imports them from.

pub use herald_plugin_api::ledger::orders::{Fact, Fold, LedgerError, OrderLedger, OrderState};
