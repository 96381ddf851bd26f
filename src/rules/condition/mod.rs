//! `when` expressions: the part of the routing stage's matching language that
//! filters events on their fields, e.g.
//! `data.object.amount >= 100 and customer.email exists`, or
//! `type in ['charge.refunded', 'refund.created'] and customer.email contains '@'`.
//!
//! Conditions are parsed once at config load, with column-accurate errors, and
//! evaluated per event. Evaluation never fails: a missing field simply makes
//! the comparison false (or true, for `!=`), so rules degrade to "no match"
//! rather than to an error on an unexpected payload.
//!
//! `order.…` paths ([`ORDER_PATHS`]) read the order as it stands when a job is
//! delivered, not when its event arrives: a [`Scope`] may defer a path, and a
//! comparison on a deferred path is unknown until then (see [`Condition::outcome`]).

mod explain;
mod lexer;
mod order;
mod parser;
#[cfg(test)]
mod tests;

use self::lexer::{describe, tokenize, Kind, Token};
use self::parser::Parser;

pub use self::explain::Comparison;
pub use self::order::{is_order_id, ORDER_PATHS};

use std::cmp::Ordering;
use std::str::FromStr;

use serde_json::{Number, Value};

/// How deeply `not` and parentheses may nest. Parsing and evaluation recurse,
/// so this keeps a hostile config from overflowing the stack.
const MAX_DEPTH: usize = 64;

/// Words that cannot start a field path, so `and >= 1` gets a clear error.
const KEYWORDS: [&str; 9] = [
    "and", "or", "not", "exists", "in", "contains", "true", "false", "null",
];

const VALUE_HINT: &str = "a number, a quoted string, true, false or null";

/// A parsed `when` expression; two are equal when they parse to the same tree,
/// however they are written.
#[derive(Debug, Clone)]
pub struct Condition {
    expr: Expr,
    /// The expression as written, for `herald route`.
    source: String,
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

/// Why a `when` expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct ConditionError {
    /// 1-based position of the problem, counted in characters.
    pub column: usize,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

/// Shorthand for the many early returns of the lexer and parser.
fn fail<T>(column: usize, message: impl Into<String>) -> Result<T, ConditionError> {
    Err(ConditionError {
        column,
        message: message.into(),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    // Chains are flat lists so that `a and b and c ...` evaluates without recursion.
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Exists(Vec<String>),
    /// A boolean the language knows (`order.changed`) written on its own: true
    /// when the field is `true`.
    Flag(Vec<String>),
    Compare {
        path: Vec<String>,
        op: Op,
        value: Value,
    },
    /// Two fields compared with each other: `data.object.amount > data.previous_attributes.amount`.
    CompareFields {
        path: Vec<String>,
        op: Op,
        other: Vec<String>,
    },
    /// The field equals one of `values` (`==` for each).
    In {
        path: Vec<String>,
        values: Vec<Value>,
    },
    /// The field is a string holding `value` as a substring, or an array with an
    /// element equal to it.
    Contains {
        path: Vec<String>,
        value: Value,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    const ALL: [Op; 6] = [Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le];

    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

impl Condition {
    /// Parses a `when` expression; see the module docs for the language.
    ///
    /// # Errors
    /// The first problem in `source`, with its column.
    pub fn parse(source: &str) -> Result<Self, ConditionError> {
        let mut tokens = Vec::new();
        let end = tokenize(source, &mut tokens).map(|()| Token {
            kind: Kind::End,
            column: source.chars().count() + 1,
        });
        let mut parser = Parser {
            tokens,
            end,
            pos: 0,
            depth: 0,
        };
        if parser.peek()?.kind == Kind::End {
            let example = "`data.object.amount >= 100`";
            return fail(
                1,
                format!("empty expression; write a condition such as {example}"),
            );
        }
        let expr = parser.parse_or()?;
        let token = parser.peek()?;
        match &token.kind {
            Kind::End => Ok(Self {
                expr,
                source: source.to_owned(),
            }),
            Kind::RParen => fail(
                token.column,
                "unmatched `)`; remove it or add a matching `(`",
            ),
            other => fail(
                token.column,
                format!(
                    "unexpected {} after a complete condition; \
                     join conditions with `and` or `or`",
                    describe(other)
                ),
            ),
        }
    }

    /// Every field path the expression reads, dotted (`customer.email`), each once,
    /// in the order written.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        let mut stack = vec![&self.expr];
        while let Some(expr) = stack.pop() {
            match expr {
                Expr::Or(list) | Expr::And(list) => stack.extend(list.iter().rev()),
                Expr::Not(inner) => stack.push(inner),
                Expr::Exists(path)
                | Expr::Flag(path)
                | Expr::Compare { path, .. }
                | Expr::In { path, .. }
                | Expr::Contains { path, .. } => {
                    let dotted = path.join(".");
                    if !paths.contains(&dotted) {
                        paths.push(dotted);
                    }
                }
                Expr::CompareFields { path, other, .. } => {
                    for dotted in [path.join("."), other.join(".")] {
                        if !paths.contains(&dotted) {
                            paths.push(dotted);
                        }
                    }
                }
            }
        }
        paths
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against the event's JSON context, or any other [`Scope`]: true
    /// when the condition holds, or may hold once the paths `context` defers are
    /// known (a job is then planned and the rest is decided at delivery).
    pub fn evaluate<S: Scope + ?Sized>(&self, context: &S) -> bool {
        eval(&self.expr, context) != Some(false)
    }

    /// The condition's outcome; `None` when it depends on a path `context` defers.
    pub fn outcome<S: Scope + ?Sized>(&self, context: &S) -> Option<bool> {
        eval(&self.expr, context)
    }
}

impl FromStr for Condition {
    type Err = ConditionError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        Self::parse(source)
    }
}

/// Where a condition looks its paths up.
pub trait Scope {
    /// The value at `path` (object keys and array indexes), if there is one.
    fn lookup(&self, path: &[String]) -> Option<&Value>;

    /// Whether `path` is only known later (`order.…` when a job is planned), so a
    /// comparison on it is neither true nor false yet.
    fn defers(&self, path: &[String]) -> bool {
        let _ = path;
        false
    }
}

impl Scope for Value {
    fn lookup(&self, path: &[String]) -> Option<&Value> {
        lookup(self, path)
    }
}

/// Three-valued: `None` is a comparison on a deferred path, or a chain that an
/// unknown part decides. `false and unknown` is false, `true or unknown` true.
fn eval<S: Scope + ?Sized>(expr: &Expr, context: &S) -> Option<bool> {
    match expr {
        Expr::Or(items) => {
            let mut unknown = false;
            for item in items {
                match eval(item, context) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            (!unknown).then_some(false)
        }
        Expr::And(items) => {
            let mut unknown = false;
            for item in items {
                match eval(item, context) {
                    Some(false) => return Some(false),
                    Some(true) => {}
                    None => unknown = true,
                }
            }
            (!unknown).then_some(true)
        }
        Expr::Not(inner) => eval(inner, context).map(|value| !value),
        Expr::CompareFields { other, .. } if context.defers(other) => None,
        leaf => {
            let path = leaf_path(leaf)?;
            (!context.defers(path)).then(|| compare(leaf, context))
        }
    }
}

/// The path a comparison reads (the left one of two fields); `None` for
/// `and`/`or`/`not`.
fn leaf_path(expr: &Expr) -> Option<&[String]> {
    match expr {
        Expr::Exists(path)
        | Expr::Flag(path)
        | Expr::Compare { path, .. }
        | Expr::CompareFields { path, .. }
        | Expr::In { path, .. }
        | Expr::Contains { path, .. } => Some(path),
        Expr::Or(_) | Expr::And(_) | Expr::Not(_) => None,
    }
}

/// One comparison's outcome against the value its path holds now.
fn compare<S: Scope + ?Sized>(expr: &Expr, context: &S) -> bool {
    match expr {
        Expr::Exists(path) => context.lookup(path).is_some_and(|value| !value.is_null()),
        Expr::Flag(path) => context.lookup(path) == Some(&Value::Bool(true)),
        Expr::Compare { path, op, value } => match context.lookup(path) {
            Some(actual) => op.holds(actual, value),
            // A missing field is unequal to anything, and unordered.
            None => *op == Op::Ne,
        },
        Expr::CompareFields { path, op, other } => {
            match (context.lookup(path), context.lookup(other)) {
                (Some(actual), Some(wanted)) => op.holds(actual, wanted),
                _ => *op == Op::Ne,
            }
        }
        Expr::In { path, values } => context
            .lookup(path)
            .is_some_and(|actual| values.iter().any(|value| json_equal(actual, value))),
        Expr::Contains { path, value } => context
            .lookup(path)
            .is_some_and(|actual| contains(actual, value)),
        Expr::Or(_) | Expr::And(_) | Expr::Not(_) => false,
    }
}

impl Op {
    /// Whether `actual op wanted`.
    fn holds(self, actual: &Value, wanted: &Value) -> bool {
        match self {
            Op::Eq => json_equal(actual, wanted),
            Op::Ne => !json_equal(actual, wanted),
            Op::Gt => ordering(actual, wanted).is_some_and(Ordering::is_gt),
            Op::Ge => ordering(actual, wanted).is_some_and(Ordering::is_ge),
            Op::Lt => ordering(actual, wanted).is_some_and(Ordering::is_lt),
            Op::Le => ordering(actual, wanted).is_some_and(Ordering::is_le),
        }
    }
}

fn contains(actual: &Value, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
        (Value::Array(items), _) => items.iter().any(|item| json_equal(item, wanted)),
        _ => false,
    }
}

/// The value at `path` under `context`.
pub fn lookup<'a>(context: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(context, |current, segment| match current {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

fn json_equal(actual: &Value, expected: &Value) -> bool {
    // `ordering` makes 100 equal 100.0; everything else is plain JSON equality.
    ordering(actual, expected).map_or(actual == expected, Ordering::is_eq)
}

fn ordering(actual: &Value, expected: &Value) -> Option<Ordering> {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => compare_numbers(a, b),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// Compares exactly when both fit one integer type, so large IDs do not lose
/// precision, and as floats otherwise (`100 == 100.0`).
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}
