//! `when` expressions: the part of the routing stage's matching language that
//! filters events on their fields, e.g.
//! `data.object.amount >= 100 and customer.email exists`.
//!
//! Conditions are parsed once at config load, with column-accurate errors, and
//! evaluated per event. Evaluation never fails: a missing field simply makes
//! the comparison false (or true, for `!=`), so rules degrade to "no match"
//! rather than to an error on an unexpected payload.

use std::cmp::Ordering;
use std::str::FromStr;

use serde_json::{Number, Value};

/// How deeply `not` and parentheses may nest. Parsing and evaluation recurse,
/// so this keeps a hostile config from overflowing the stack.
const MAX_DEPTH: usize = 64;

/// Words that cannot start a field path, so `and >= 1` gets a clear error.
const KEYWORDS: [&str; 7] = ["and", "or", "not", "exists", "true", "false", "null"];

const VALUE_HINT: &str = "a number, a quoted string, true, false or null";

/// A parsed `when` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: Expr,
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
    Compare {
        path: Vec<String>,
        op: Op,
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
            Kind::End => Ok(Self { expr }),
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

    /// Evaluates against the event's JSON context.
    pub fn evaluate(&self, context: &Value) -> bool {
        eval(&self.expr, context)
    }
}

impl FromStr for Condition {
    type Err = ConditionError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        Self::parse(source)
    }
}

fn eval(expr: &Expr, context: &Value) -> bool {
    match expr {
        Expr::Or(items) => items.iter().any(|item| eval(item, context)),
        Expr::And(items) => items.iter().all(|item| eval(item, context)),
        Expr::Not(inner) => !eval(inner, context),
        Expr::Exists(path) => lookup(context, path).is_some_and(|value| !value.is_null()),
        Expr::Compare { path, op, value } => {
            let Some(actual) = lookup(context, path) else {
                // A missing field is unequal to anything, and unordered.
                return *op == Op::Ne;
            };
            match op {
                Op::Eq => json_equal(actual, value),
                Op::Ne => !json_equal(actual, value),
                Op::Gt => ordering(actual, value).is_some_and(Ordering::is_gt),
                Op::Ge => ordering(actual, value).is_some_and(Ordering::is_ge),
                Op::Lt => ordering(actual, value).is_some_and(Ordering::is_lt),
                Op::Le => ordering(actual, value).is_some_and(Ordering::is_le),
            }
        }
    }
}

fn lookup<'a>(context: &'a Value, path: &[String]) -> Option<&'a Value> {
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

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// A run of path characters: a path, keyword or number, told apart by the parser.
    Word(String),
    Str(String),
    Op(Op),
    LParen,
    RParen,
    End,
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Kind,
    column: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Lexes into `tokens`. On a lexical error the tokens before it are kept, so
/// the parser can report an earlier syntax error first.
fn tokenize(source: &str, tokens: &mut Vec<Token>) -> Result<(), ConditionError> {
    let chars: Vec<char> = source.chars().collect();
    let mut pos = 0;
    while let Some(&c) = chars.get(pos) {
        let column = pos + 1;
        let kind = match c {
            c if c.is_whitespace() => {
                pos += 1;
                continue;
            }
            '(' => {
                pos += 1;
                Kind::LParen
            }
            ')' => {
                pos += 1;
                Kind::RParen
            }
            '"' | '\'' => Kind::Str(lex_string(&chars, &mut pos, c)?),
            '=' | '!' | '<' | '>' => {
                let text = take_while(&chars, &mut pos, |c| matches!(c, '=' | '!' | '<' | '>'));
                Kind::Op(lex_operator(&text, column)?)
            }
            c if is_word_char(c) => Kind::Word(take_while(&chars, &mut pos, is_word_char)),
            '&' | '|' => {
                let hint = "combine conditions with `and`, `or` and `not`";
                return fail(column, format!("unexpected `{c}`; {hint}"));
            }
            _ => {
                let hint = "field paths may only contain letters, digits, `_`, `-` and `.`, \
                            and strings must be quoted";
                return fail(column, format!("unexpected character {c:?}; {hint}"));
            }
        };
        tokens.push(Token { kind, column });
    }
    Ok(())
}

fn take_while(chars: &[char], pos: &mut usize, keep: impl Fn(char) -> bool) -> String {
    let mut text = String::new();
    while let Some(&c) = chars.get(*pos).filter(|&&c| keep(c)) {
        text.push(c);
        *pos += 1;
    }
    text
}

/// Lexes a string whose opening quote is at `pos`; `\\` and an escaped quote
/// of either kind are the only escapes, which is all a filter value needs.
fn lex_string(chars: &[char], pos: &mut usize, quote: char) -> Result<String, ConditionError> {
    let start = *pos;
    *pos += 1;
    let mut text = String::new();
    loop {
        let Some(&c) = chars.get(*pos) else {
            return fail(
                start + 1,
                format!("unterminated string; add a closing `{quote}`"),
            );
        };
        *pos += 1;
        match c {
            c if c == quote => return Ok(text),
            '\\' => match chars.get(*pos) {
                Some(&escaped @ ('\\' | '"' | '\'')) => {
                    text.push(escaped);
                    *pos += 1;
                }
                // Let the unterminated-string error above report the real problem.
                None => {}
                Some(other) => {
                    let supported = r#"only `\\`, `\"` and `\'` are supported"#;
                    return fail(*pos, format!("unknown escape `\\{other}`; {supported}"));
                }
            },
            c => text.push(c),
        }
    }
}

fn lex_operator(text: &str, column: usize) -> Result<Op, ConditionError> {
    if let Some(op) = Op::ALL.into_iter().find(|op| op.as_str() == text) {
        return Ok(op);
    }
    // Suggest what people coming from SQL, JavaScript or typos most likely meant.
    let hint = match text {
        "=" | "===" => "did you mean `==`? ",
        "=>" => "did you mean `>=`? ",
        "=<" => "did you mean `<=`? ",
        "<>" | "!==" => "did you mean `!=`? ",
        "!" => "use `not` to negate a condition; ",
        _ => "",
    };
    fail(
        column,
        format!("unknown operator `{text}`; {hint}valid operators are ==, !=, >, >=, <, <="),
    )
}

fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Word(word) => format!("`{word}`"),
        Kind::Str(text) => format!("string {text:?}"),
        Kind::Op(op) => format!("`{}`", op.as_str()),
        Kind::LParen => "`(`".to_owned(),
        Kind::RParen => "`)`".to_owned(),
        Kind::End => "end of expression".to_owned(),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// What lies past the last token: the end, or the lexical error that cut
    /// the tokens short.
    end: Result<Token, ConditionError>,
}

impl Parser {
    fn peek(&self) -> Result<&Token, ConditionError> {
        match self.tokens.get(self.pos) {
            Some(token) => Ok(token),
            None => self.end.as_ref().map_err(Clone::clone),
        }
    }

    fn next(&mut self) -> Result<Token, ConditionError> {
        let token = self.peek()?.clone();
        self.pos += 1;
        Ok(token)
    }

    fn eat_keyword(&mut self, keyword: &str) -> Result<bool, ConditionError> {
        let found = matches!(&self.peek()?.kind, Kind::Word(word) if word == keyword);
        if found {
            self.pos += 1;
        }
        Ok(found)
    }

    fn parse_or(&mut self) -> Result<Expr, ConditionError> {
        self.parse_chain("or", Expr::Or, Self::parse_and)
    }

    fn parse_and(&mut self) -> Result<Expr, ConditionError> {
        self.parse_chain("and", Expr::And, Self::parse_unary)
    }

    /// `operand (keyword operand)*`, collected into one flat node; a chain of
    /// one is just its operand, which keeps the AST small.
    fn parse_chain(
        &mut self,
        keyword: &str,
        join: fn(Vec<Expr>) -> Expr,
        operand: fn(&mut Self) -> Result<Expr, ConditionError>,
    ) -> Result<Expr, ConditionError> {
        let first = operand(self)?;
        if !self.eat_keyword(keyword)? {
            return Ok(first);
        }
        let mut items = vec![first, operand(self)?];
        while self.eat_keyword(keyword)? {
            items.push(operand(self)?);
        }
        Ok(join(items))
    }

    fn parse_unary(&mut self) -> Result<Expr, ConditionError> {
        let token = self.peek()?;
        let column = token.column;
        let is_not = matches!(&token.kind, Kind::Word(word) if word == "not");
        if !is_not && token.kind != Kind::LParen {
            return self.parse_comparison();
        }
        if self.depth >= MAX_DEPTH {
            let message = format!("more than {MAX_DEPTH} nested `not`s or parentheses");
            return fail(column, format!("{message}; simplify the condition"));
        }
        self.depth += 1;
        self.pos += 1;
        let expr = if is_not {
            Expr::Not(Box::new(self.parse_unary()?))
        } else {
            let inner = self.parse_or()?;
            let close = self.next()?;
            if close.kind != Kind::RParen {
                let found = describe(&close.kind);
                let message = format!("expected `)` to close the `(` at column {column}");
                return fail(close.column, format!("{message}, found {found}"));
            }
            inner
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn parse_comparison(&mut self) -> Result<Expr, ConditionError> {
        let token = self.next()?;
        let path = match token.kind {
            Kind::Word(word) => parse_path(&word, token.column)?,
            Kind::Str(_) => {
                let hint = "field paths are written unquoted, e.g. `customer.email`";
                return fail(
                    token.column,
                    format!("expected a field path, found a string; {hint}"),
                );
            }
            other => {
                let found = describe(&other);
                let message = "expected a field path such as `data.object.amount`";
                return fail(token.column, format!("{message}, found {found}"));
            }
        };
        let token = self.next()?;
        let op = match token.kind {
            Kind::Word(word) if word == "exists" => return Ok(Expr::Exists(path)),
            Kind::Op(op) => op,
            other => {
                let (path, found) = (path.join("."), describe(&other));
                let expected = "expected an operator (==, !=, >, >=, <, <=) or `exists`";
                return fail(
                    token.column,
                    format!("{expected} after `{path}`, found {found}"),
                );
            }
        };
        let token = self.next()?;
        let value = match token.kind {
            Kind::Str(text) => Value::String(text),
            Kind::Word(word) => parse_literal(&word, token.column)?,
            other => {
                let (op, found) = (op.as_str(), describe(&other));
                let message = format!("missing value after `{op}`; expected {VALUE_HINT}");
                return fail(token.column, format!("{message}, found {found}"));
            }
        };
        Ok(Expr::Compare { path, op, value })
    }
}

fn parse_path(word: &str, column: usize) -> Result<Vec<String>, ConditionError> {
    if KEYWORDS.contains(&word) {
        return fail(
            column,
            format!("expected a field path, found the keyword `{word}`"),
        );
    }
    if word.split('.').any(str::is_empty) {
        let message = format!("field path `{word}` has an empty segment");
        return fail(column, format!("{message}; remove the extra `.`"));
    }
    Ok(word.split('.').map(str::to_owned).collect())
}

fn parse_literal(word: &str, column: usize) -> Result<Value, ConditionError> {
    match word {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        "null" => return Ok(Value::Null),
        _ => {}
    }
    let digits = word.strip_prefix('-').unwrap_or(word);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let is_number = [whole, fraction]
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    if !is_number {
        let message = format!("expected {VALUE_HINT}, found `{word}`");
        return fail(column, format!("{message}; quote strings, e.g. \"{word}\""));
    }
    let number = if let Ok(n) = word.parse::<i64>() {
        Some(Number::from(n))
    } else if let Ok(n) = word.parse::<u64>() {
        Some(Number::from(n))
    } else {
        word.parse::<f64>().ok().and_then(Number::from_f64)
    };
    match number {
        Some(number) => Ok(Value::Number(number)),
        None => fail(column, format!("number `{word}` is out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stripe_event() -> Value {
        json!({
            "type": "payment_intent.succeeded",
            "amount": 4998,
            "currency": "usd",
            "customer": {"email": "jenny@example.com", "name": null},
            "data": {"object": {
                "amount": 4998,
                "metadata": {"order_id": "ORDER12345"},
                "charges": [{"id": "ch_1"}]
            }}
        })
    }

    fn holds(source: &str, context: &Value) -> bool {
        Condition::parse(source)
            .unwrap_or_else(|err| panic!("{source:?} failed to parse: {err}"))
            .evaluate(context)
    }

    fn assert_cases(context: &Value, cases: &[(&str, bool)]) {
        for &(source, expected) in cases {
            assert_eq!(holds(source, context), expected, "{source}");
        }
    }

    fn error(source: &str) -> ConditionError {
        match Condition::parse(source) {
            Ok(condition) => panic!("{source:?} parsed as {condition:?}"),
            Err(err) => err,
        }
    }

    fn assert_error(source: &str, column: usize, fragment: &str) {
        let err = error(source);
        assert_eq!(err.column, column, "{source}: {err}");
        assert!(err.message.contains(fragment), "{source}: {err}");
    }

    #[test]
    fn the_documented_example_holds_for_a_stripe_event() {
        assert!(holds(
            "data.object.amount >= 100 and customer.email exists",
            &stripe_event()
        ));
    }

    #[test]
    fn exists_requires_a_present_non_null_value() {
        assert_cases(
            &stripe_event(),
            &[
                ("customer.email exists", true),
                ("customer exists", true),
                ("customer.name exists", false),
                ("customer.phone exists", false),
                ("amount.cents exists", false),
            ],
        );
    }

    #[test]
    fn equality_compares_json_values_and_numbers_numerically() {
        assert_cases(
            &stripe_event(),
            &[
                ("amount == 4998", true),
                ("amount == 4998.0", true),
                ("amount != 4998", false),
                ("amount == 4999", false),
                ("amount == \"4998\"", false),
                ("currency == \"usd\"", true),
                ("currency == 'usd'", true),
                ("currency != \"eur\"", true),
                ("type == 'payment_intent.succeeded'", true),
                ("customer.name == null", true),
                ("customer.email != null", true),
                ("data.object.metadata.order_id == \"ORDER12345\"", true),
            ],
        );
    }

    #[test]
    fn missing_paths_are_unequal_to_everything() {
        assert_cases(
            &stripe_event(),
            &[
                ("customer.phone == null", false),
                ("customer.phone == \"x\"", false),
                ("customer.phone != \"x\"", true),
                ("customer.phone != null", true),
            ],
        );
    }

    #[test]
    fn ordering_needs_two_numbers_or_two_strings() {
        assert_cases(
            &stripe_event(),
            &[
                ("amount > 4997", true),
                ("amount >= 4998", true),
                ("amount < 4998.5", true),
                ("amount <= 4997", false),
                ("currency < \"usx\"", true),
                ("currency > \"usd\"", false),
                ("currency > 5", false),
                ("amount > \"1\"", false),
                ("customer.name < 1", false),
                ("customer.phone < 1", false),
                ("customer > 1", false),
            ],
        );
    }

    #[test]
    fn literals_cover_negatives_decimals_booleans_and_big_integers() {
        let context = json!({
            "balance": -5, "rate": 0.25, "livemode": false, "id": u64::MAX
        });
        assert_cases(
            &context,
            &[
                ("balance == -5", true),
                ("balance < -4.5", true),
                ("rate >= 0.25", true),
                ("rate < 1", true),
                ("livemode == false", true),
                ("livemode != true", true),
                ("livemode > 0", false),
                ("id == 18446744073709551615", true),
                ("id > 18446744073709551614", true),
                ("balance < 18446744073709551615", true),
            ],
        );
    }

    #[test]
    fn digit_segments_index_arrays_and_object_keys() {
        let context = json!({"list": ["a", "b"], "metadata": {"1": "x"}, "x-request-id": "r"});
        assert_cases(
            &stripe_event(),
            &[
                ("data.object.charges.0.id == \"ch_1\"", true),
                ("data.object.charges.1 exists", false),
                ("data.object.charges.first exists", false),
            ],
        );
        assert_cases(
            &context,
            &[
                ("list.1 == 'b'", true),
                ("list.01 == 'b'", true),
                ("metadata.1 == 'x'", true),
                ("x-request-id == 'r'", true),
            ],
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let context = stripe_event();
        // (true or false) and false would be false; true or (false and false) is true.
        assert!(holds(
            "currency == 'usd' or amount < 0 and amount > 10000",
            &context
        ));
        assert_eq!(
            Condition::parse("a exists or b exists and c exists"),
            Condition::parse("a exists or (b exists and c exists)")
        );
    }

    #[test]
    fn not_negates_the_following_condition() {
        assert_cases(
            &stripe_event(),
            &[
                ("not customer.name exists", true),
                ("not not amount exists", true),
                ("not amount > 1 and currency == 'usd'", false),
                ("not (amount > 1 and currency == 'eur')", true),
                ("not(currency == 'eur')", true),
            ],
        );
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_cases(
            &stripe_event(),
            &[
                (
                    "(currency == 'eur' or currency == 'usd') and amount > 1000",
                    true,
                ),
                (
                    "currency == 'eur' or (currency == 'usd' and amount > 5000)",
                    false,
                ),
                ("(((amount exists)))", true),
                ("(amount>=100)and(currency=='usd')", true),
            ],
        );
    }

    #[test]
    fn strings_support_quote_and_backslash_escapes() {
        let context = json!({"quote": "say \"hi\"", "dir": "C:\\tmp", "apos": "it's"});
        assert_cases(
            &context,
            &[
                (r#"quote == "say \"hi\"""#, true),
                (r#"dir == 'C:\\tmp'"#, true),
                (r#"apos == 'it\'s'"#, true),
                (r#"apos == "it's""#, true),
                (r#"quote == 'say "hi"'"#, true),
            ],
        );
    }

    #[test]
    fn empty_expression_is_an_error() {
        assert_error("", 1, "empty expression");
        assert_error("   ", 1, "empty expression");
    }

    #[test]
    fn unknown_operators_suggest_the_right_one() {
        assert_error(
            "amount = 100",
            8,
            "unknown operator `=`; did you mean `==`?",
        );
        assert_error("amount => 100", 8, "did you mean `>=`?");
        assert_error("amount <> 100", 8, "did you mean `!=`?");
        assert_error("amount <> 100", 8, "valid operators are ==, !=");
        assert_error("amount ! exists", 8, "use `not`");
    }

    #[test]
    fn a_missing_operator_is_an_error() {
        assert_error("amount", 7, "expected an operator");
        assert_error("amount 100", 8, "or `exists` after `amount`, found `100`");
    }

    #[test]
    fn a_missing_literal_is_an_error() {
        assert_error("amount >=", 10, "missing value after `>=`");
        assert_error("(amount >= )", 12, "found `)`");
        assert_error("currency == usd", 13, "quote strings, e.g. \"usd\"");
        assert_error("amount == 1.", 11, "found `1.`");
    }

    #[test]
    fn unterminated_strings_point_at_the_opening_quote() {
        assert_error("currency == 'usd", 13, "unterminated string");
        assert_error(r#"currency == "usd\""#, 13, "unterminated string");
        assert_error(r#"currency == "usd\"#, 13, "unterminated string");
    }

    #[test]
    fn unknown_escapes_point_at_the_backslash() {
        assert_error(r#"a == "x\n""#, 8, "unknown escape `\\n`");
    }

    #[test]
    fn unbalanced_parentheses_are_errors() {
        assert_error(
            "(amount >= 1",
            13,
            "expected `)` to close the `(` at column 1",
        );
        assert_error("amount >= 1)", 12, "unmatched `)`");
        assert_error("()", 2, "expected a field path");
    }

    #[test]
    fn trailing_input_is_an_error() {
        assert_error(
            "amount >= 100 amount",
            15,
            "unexpected `amount` after a complete",
        );
        assert_error(
            "amount exists 'x'",
            15,
            "join conditions with `and` or `or`",
        );
    }

    #[test]
    fn keywords_cannot_stand_where_a_path_is_expected() {
        assert_error("and >= 1", 1, "found the keyword `and`");
        assert_error("amount >= 1 and or exists", 17, "keyword `or`");
        assert_error("null == null", 1, "keyword `null`");
        assert_error("\"amount\" > 1", 1, "field paths are written unquoted");
    }

    #[test]
    fn malformed_paths_and_characters_are_errors() {
        assert_error("data..amount exists", 1, "empty segment");
        assert_error(
            "amount >= 1 && x exists",
            13,
            "combine conditions with `and`",
        );
        assert_error("amount >= 1 ; x", 13, "unexpected character ';'");
        assert_error("a == 1e999", 6, "expected a number");
    }

    #[test]
    fn huge_numbers_are_errors_not_infinities() {
        let source = format!("a == {}", "9".repeat(400));
        assert_error(&source, 6, "out of range");
    }

    #[test]
    fn the_earliest_error_is_reported_first() {
        assert_error("amount 5 = 3", 8, "expected an operator");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let parens = format!("{}a exists{}", "(".repeat(100_000), ")".repeat(100_000));
        assert_error(&parens, MAX_DEPTH + 1, "nested");
        let nots = format!("{}a exists", "not ".repeat(1000));
        assert_error(&nots, MAX_DEPTH * 4 + 1, "nested");
        let ok = format!("{}a exists{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(Condition::parse(&ok).is_ok());
    }

    #[test]
    fn long_flat_chains_evaluate_without_recursion() {
        let source = vec!["amount exists"; 100_000].join(" and ");
        assert!(holds(&source, &stripe_event()));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_error("name == 'é' x", 13, "unexpected `x`");
        assert_error("é exists", 1, "unexpected character 'é'");
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let alphabet: Vec<char> = "ab.0-_ ()\"'\\=!<>&é\tnotandorexists".chars().collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let len = (seed % 24) as usize;
            let source: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            if let Ok(condition) = Condition::parse(&source) {
                condition.evaluate(&stripe_event());
            }
        }
    }

    #[test]
    fn error_display_includes_the_column() {
        assert_eq!(
            error("amount = 1").to_string(),
            "at column 8: unknown operator `=`; did you mean `==`? valid operators are \
             ==, !=, >, >=, <, <="
        );
    }
}
