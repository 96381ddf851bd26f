//! Recursive descent over the tokens: `or` of `and` of `not`/`(…)`/comparisons.

use super::lexer::{describe, Kind, Token};
use super::order::FLAGS;
use super::{fail, ConditionError, Expr, Number, Value, KEYWORDS, MAX_DEPTH, VALUE_HINT};

pub(super) struct Parser {
    pub(super) tokens: Vec<Token>,
    pub(super) pos: usize,
    pub(super) depth: usize,
    /// What lies past the last token: the end, or the lexical error that cut
    /// the tokens short.
    pub(super) end: Result<Token, ConditionError>,
}

impl Parser {
    pub(super) fn peek(&self) -> Result<&Token, ConditionError> {
        match self.tokens.get(self.pos) {
            Some(token) => Ok(token),
            None => self.end.as_ref().map_err(Clone::clone),
        }
    }

    pub(super) fn next(&mut self) -> Result<Token, ConditionError> {
        let token = self.peek()?.clone();
        self.pos += 1;
        Ok(token)
    }

    pub(super) fn eat_keyword(&mut self, keyword: &str) -> Result<bool, ConditionError> {
        let found = matches!(&self.peek()?.kind, Kind::Word(word) if word == keyword);
        if found {
            self.pos += 1;
        }
        Ok(found)
    }

    pub(super) fn parse_or(&mut self) -> Result<Expr, ConditionError> {
        self.parse_chain("or", Expr::Or, Self::parse_and)
    }

    pub(super) fn parse_and(&mut self) -> Result<Expr, ConditionError> {
        self.parse_chain("and", Expr::And, Self::parse_unary)
    }

    /// `operand (keyword operand)*`, collected into one flat node; a chain of
    /// one is just its operand, which keeps the AST small.
    pub(super) fn parse_chain(
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

    pub(super) fn parse_unary(&mut self) -> Result<Expr, ConditionError> {
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

    pub(super) fn parse_comparison(&mut self) -> Result<Expr, ConditionError> {
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
        if FLAGS.contains(&path.join(".").as_str()) && !self.operator_follows()? {
            return Ok(Expr::Flag(path));
        }
        let token = self.next()?;
        let op = match token.kind {
            Kind::Word(word) if word == "exists" => return Ok(Expr::Exists(path)),
            Kind::Word(word) if word == "in" => {
                let values = self.parse_list(token.column)?;
                return Ok(Expr::In { path, values });
            }
            Kind::Word(word) if word == "contains" => {
                let value = self.parse_value("contains")?;
                return Ok(Expr::Contains { path, value });
            }
            Kind::Op(op) => op,
            other => {
                let (path, found) = (path.join("."), describe(&other));
                let expected =
                    "expected an operator (==, !=, >, >=, <, <=), `in`, `contains` or `exists`";
                return fail(
                    token.column,
                    format!("{expected} after `{path}`, found {found}"),
                );
            }
        };
        // A dotted name that is no number is a second field: `a.b > c.d`.
        if let Kind::Word(word) = &self.peek()?.kind {
            if word.contains('.') && word.parse::<f64>().is_err() {
                let column = self.peek()?.column;
                let other = parse_path(word, column)?;
                self.pos += 1;
                return Ok(Expr::CompareFields { path, op, other });
            }
        }
        let value = self.parse_value(op.as_str())?;
        Ok(Expr::Compare { path, op, value })
    }

    /// Whether the next token continues a comparison (an operator, `exists`, `in`
    /// or `contains`), rather than ending a flag such as `order.changed`.
    fn operator_follows(&mut self) -> Result<bool, ConditionError> {
        Ok(match &self.peek()?.kind {
            Kind::Op(_) => true,
            Kind::Word(word) => ["exists", "in", "contains"].contains(&word.as_str()),
            _ => false,
        })
    }

    /// The literal after `after` (an operator or keyword).
    fn parse_value(&mut self, after: &str) -> Result<Value, ConditionError> {
        let token = self.next()?;
        match token.kind {
            Kind::Str(text) => Ok(Value::String(text)),
            Kind::Word(word) => parse_literal(&word, token.column),
            other => {
                let found = describe(&other);
                let message = format!("missing value after `{after}`; expected {VALUE_HINT}");
                fail(token.column, format!("{message}, found {found}"))
            }
        }
    }

    /// `[value, value, …]` after the `in` at `column`; a trailing comma is allowed.
    fn parse_list(&mut self, column: usize) -> Result<Vec<Value>, ConditionError> {
        let open = self.next()?;
        if open.kind != Kind::LBracket {
            let found = describe(&open.kind);
            let example = "`type in ['charge.refunded', 'refund.created']`";
            return fail(
                open.column,
                format!("expected `[` after `in`, found {found}; write a list such as {example}"),
            );
        }
        let mut values = Vec::new();
        loop {
            if self.peek()?.kind == Kind::RBracket {
                self.pos += 1;
                break;
            }
            values.push(self.parse_value("[")?);
            let token = self.next()?;
            match token.kind {
                Kind::Comma => {}
                Kind::RBracket => break,
                other => {
                    let found = describe(&other);
                    return fail(
                        token.column,
                        format!("expected `,` or `]` in the list, found {found}"),
                    );
                }
            }
        }
        if values.is_empty() {
            return fail(column, "`in` needs at least one value in its list");
        }
        Ok(values)
    }
}

pub(super) fn parse_path(word: &str, column: usize) -> Result<Vec<String>, ConditionError> {
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

pub(super) fn parse_literal(word: &str, column: usize) -> Result<Value, ConditionError> {
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
        return fail(
            column,
            format!(
                "{message}; quote strings, e.g. \"{word}\", or name a field by its dotted path"
            ),
        );
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
