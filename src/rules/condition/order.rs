//! `order.…` paths: which a condition may read, and whether it reads any.
//!
//! They are not fields of the event: the dispatcher fills them in from the order's
//! folded state when the job is delivered (`crate::dispatch::order_gate`).

use super::{leaf_path, Condition, Expr};

/// The `order.…` paths a condition may read.
pub const ORDER_PATHS: [&str; 4] = [
    "order.status",
    "order.previous_status",
    "order.changed",
    "order.on_hold",
];

/// The paths that may be written alone, as a boolean: `order.changed and …`.
pub(super) const FLAGS: [&str; 1] = ["order.changed"];

/// Whether `path` is under `order`.
pub(super) fn is_order_path(path: &[String]) -> bool {
    path.first().is_some_and(|first| first == "order")
}

/// Whether `path` is the event's `order_id`, which may be found through the links
/// only at delivery.
pub fn is_order_id(path: &[String]) -> bool {
    matches!(path, [only] if only == "order_id")
}

impl Condition {
    /// Whether any comparison reads an `order.…` path or `order_id`, so the job must
    /// be checked again at delivery.
    pub fn reads_order(&self) -> bool {
        let mut found = false;
        visit(&self.expr, &mut |path| {
            found |= is_order_path(path) || is_order_id(path);
        });
        found
    }

    /// Whether any comparison reads `customer.…`, which the customer directory may
    /// fill at delivery, so the job is checked again then.
    pub fn reads_customer(&self) -> bool {
        let mut found = false;
        visit(&self.expr, &mut |path| {
            found |= path.first().is_some_and(|first| first == "customer");
        });
        found
    }

    /// The `order.…` paths it reads that are not in [`ORDER_PATHS`], as written.
    pub fn unknown_order_paths(&self) -> Vec<String> {
        let mut unknown = Vec::new();
        visit(&self.expr, &mut |path| {
            let joined = path.join(".");
            if is_order_path(path) && !ORDER_PATHS.contains(&joined.as_str()) {
                unknown.push(joined);
            }
        });
        unknown
    }
}

fn visit(expr: &Expr, found: &mut dyn FnMut(&[String])) {
    match expr {
        Expr::Or(items) | Expr::And(items) => items.iter().for_each(|item| visit(item, found)),
        Expr::Not(inner) => visit(inner, found),
        Expr::CompareFields { path, other, .. } => {
            found(path);
            found(other);
        }
        leaf => {
            if let Some(path) = leaf_path(leaf) {
                found(path);
            }
        }
    }
}
