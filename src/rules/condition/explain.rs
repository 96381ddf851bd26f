//! The explaining evaluation behind `herald route`: every comparison of a `when`,
//! with the value it read and its outcome. Kept apart from [`Condition::evaluate`]
//! so the delivery path stays a short-circuiting walk that records nothing.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::{eval, Condition, Expr, Scope};

/// One comparison of a `when`, as one event answered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The comparison as written, normalized: `amount >= 100`, `customer.email exists`.
    pub text: String,
    /// Its outcome on its own (before any `not` around it).
    pub result: bool,
    /// The value the path held; `None` when the event has no such field.
    pub read: Option<Value>,
    /// Whether its path is only known at delivery (`order.…` before then), so
    /// `result` and `read` say nothing yet.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deferred: bool,
}

impl Condition {
    /// The condition's outcome and each of its comparisons in written order.
    ///
    /// Every comparison is evaluated (no short circuit) so a reader sees all of them;
    /// the outcome is the one [`Condition::evaluate`] gives.
    pub fn explain<S: Scope + ?Sized>(&self, context: &S) -> (bool, Vec<Comparison>) {
        let mut found = Vec::new();
        collect(&self.expr, context, &mut found);
        (self.evaluate(context), found)
    }
}

/// `expr` (a comparison) as `context` answers it.
fn step<S: Scope + ?Sized>(expr: &Expr, path: &[String], text: String, context: &S) -> Comparison {
    let deferred = context.defers(path);
    Comparison {
        text,
        result: !deferred && eval(expr, context) == Some(true),
        read: if deferred {
            None
        } else {
            context.lookup(path).cloned()
        },
        deferred,
    }
}

fn collect<S: Scope + ?Sized>(expr: &Expr, context: &S, found: &mut Vec<Comparison>) {
    match expr {
        Expr::Or(items) | Expr::And(items) => {
            for item in items {
                collect(item, context, found);
            }
        }
        Expr::Not(inner) => collect(inner, context, found),
        Expr::Exists(path) => {
            let text = format!("{} exists", path.join("."));
            found.push(step(expr, path, text, context));
        }
        Expr::Flag(path) => found.push(step(expr, path, path.join("."), context)),
        Expr::Compare { path, op, value } => {
            let text = format!("{} {} {value}", path.join("."), op.as_str());
            found.push(step(expr, path, text, context));
        }
        Expr::CompareFields { path, op, other } => {
            let text = format!("{} {} {}", path.join("."), op.as_str(), other.join("."));
            found.push(step(expr, path, text, context));
        }
        Expr::In { path, values } => {
            let list: Vec<String> = values.iter().map(Value::to_string).collect();
            let text = format!("{} in [{}]", path.join("."), list.join(", "));
            found.push(step(expr, path, text, context));
        }
        Expr::Contains { path, value } => {
            let text = format!("{} contains {value}", path.join("."));
            found.push(step(expr, path, text, context));
        }
    }
}

impl Comparison {
    /// `customer.email exists → true ("jenny@example.com")`; long values are cut.
    /// A deferred one reads `order.changed → evaluated at delivery`.
    pub fn line(&self) -> String {
        if self.deferred {
            return format!("{} → evaluated at delivery", self.text);
        }
        let mut line = format!("{} → {}", self.text, self.result);
        let read = match &self.read {
            Some(value) => shorten(&value.to_string(), 60),
            None => "missing".to_owned(),
        };
        let _ = write!(line, " ({read})");
        line
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_comparison_is_shown_with_the_value_it_read() {
        let condition =
            Condition::parse("customer.email exists and not (amount >= 100 or x == 'y')").unwrap();
        let context = json!({"customer": {"email": "jenny@example.com"}, "amount": 49});
        let (matched, steps) = condition.explain(&context);
        assert!(matched);
        assert_eq!(matched, condition.evaluate(&context));
        let lines: Vec<String> = steps.iter().map(Comparison::line).collect();
        assert_eq!(
            lines,
            [
                "customer.email exists → true (\"jenny@example.com\")",
                "amount >= 100 → false (49)",
                "x == \"y\" → false (missing)",
            ]
        );
    }
}
