//! Where stock lives: herald's database implements [`StockLedger`]; the plugin
//! only decides which moves an event makes.
//!
//! The contract itself is defined in `herald_plugin_api::ledger::stock`, so herald
//! can hand a ledger over in the [`BuildContext`](herald_plugin_api::BuildContext);
//! these are the same types, under the path herald's store imports them from.

pub use herald_plugin_api::ledger::stock::{
    checked_level, net_moves, order_moves, outstanding, LedgerError, Moved, OrderApplied,
    OrderLines, OrderStockFact, StockLedger, StockMove, StockOverflow, RETURN_ALL_KEY, TAKE_KEY,
};
