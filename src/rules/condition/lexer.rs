//! Splits a `when` expression into tokens, each with its column.

use super::{fail, ConditionError, Op};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    /// A run of path characters: a path, keyword or number, told apart by the parser.
    Word(String),
    Str(String),
    Op(Op),
    LParen,
    RParen,
    /// `[`, `]` and `,`: the value list of `in`.
    LBracket,
    RBracket,
    Comma,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) column: usize,
}

pub(super) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Lexes into `tokens`. On a lexical error the tokens before it are kept, so
/// the parser can report an earlier syntax error first.
pub(super) fn tokenize(source: &str, tokens: &mut Vec<Token>) -> Result<(), ConditionError> {
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
            '[' | ']' | ',' => {
                pos += 1;
                match c {
                    '[' => Kind::LBracket,
                    ']' => Kind::RBracket,
                    _ => Kind::Comma,
                }
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

pub(super) fn take_while(chars: &[char], pos: &mut usize, keep: impl Fn(char) -> bool) -> String {
    let mut text = String::new();
    while let Some(&c) = chars.get(*pos).filter(|&&c| keep(c)) {
        text.push(c);
        *pos += 1;
    }
    text
}

/// Lexes a string whose opening quote is at `pos`; `\\` and an escaped quote
/// of either kind are the only escapes, which is all a filter value needs.
pub(super) fn lex_string(
    chars: &[char],
    pos: &mut usize,
    quote: char,
) -> Result<String, ConditionError> {
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

pub(super) fn lex_operator(text: &str, column: usize) -> Result<Op, ConditionError> {
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

pub(super) fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Word(word) => format!("`{word}`"),
        Kind::Str(text) => format!("string {text:?}"),
        Kind::Op(op) => format!("`{}`", op.as_str()),
        Kind::LParen => "`(`".to_owned(),
        Kind::RParen => "`)`".to_owned(),
        Kind::LBracket => "`[`".to_owned(),
        Kind::RBracket => "`]`".to_owned(),
        Kind::Comma => "`,`".to_owned(),
        Kind::End => "end of expression".to_owned(),
    }
}
