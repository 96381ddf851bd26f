//! Template syntax errors said plainly. The handlebars parser reports what its grammar
//! expected next ("expected escape, expression, html_expression, decorator_expression,
//! …"), which a marketer cannot act on. When a template does not parse, this reads its
//! `{{…}}` tags once more to find the usual cause: a block opened and never closed, a
//! block closed by the wrong name, a close with no opening, or a `{{` with no `}}`.

/// Where a template's text went wrong, and how, for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

/// A block that was opened: how it was written, and where.
struct Open<'s> {
    name: &'s str,
    shown: String,
    line: usize,
    column: usize,
}

/// The first structural problem in `source`, or `None` when its tags pair up (the
/// parser's own message, made plainer by [`plain_parser_message`], is all there is).
pub fn explain(source: &str) -> Option<Explained> {
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut rest = source;
    let mut offset = 0;
    while let Some(start) = rest.find("{{") {
        let at = offset + start;
        let (line, column) = position(source, at);
        let tag = &source[at..];
        let (close, skip) = if tag.starts_with("{{!--") {
            ("--}}", 5)
        } else if tag.starts_with("{{{{") {
            // Raw blocks are rare enough to leave to the parser.
            return None;
        } else if tag.starts_with("{{{") {
            ("}}}", 3)
        } else {
            ("}}", 2)
        };
        let Some(length) = tag[skip..].find(close) else {
            let opener = &tag[..skip];
            return Some(Explained {
                line,
                column,
                message: format!("`{opener}` is never closed with `{close}`"),
            });
        };
        let inside = tag[skip..skip + length].trim_matches('~').trim();
        if let Some(problem) = follow(&mut open, inside, line, column) {
            return Some(problem);
        }
        let end = at + skip + length + close.len();
        offset = end;
        rest = &source[end..];
    }
    open.pop().map(|block| Explained {
        line: block.line,
        column: block.column,
        message: format!(
            "`{}` opened on line {} is never closed: add `{{{{/{}}}}}`",
            block.shown, block.line, block.name
        ),
    })
}

/// Follows one tag's effect on the blocks open; a problem it makes.
fn follow<'s>(
    open: &mut Vec<Open<'s>>,
    inside: &'s str,
    line: usize,
    column: usize,
) -> Option<Explained> {
    let first_word = |text: &'s str| text.split_whitespace().next().unwrap_or("");
    let opened = if let Some(body) = inside.strip_prefix('#') {
        let (prefix, body) = match body.chars().next() {
            Some(mark @ ('>' | '*')) => (mark.to_string(), &body[1..]),
            _ => (String::new(), body),
        };
        let name = first_word(body.trim_start());
        let shown = if prefix == ">" {
            format!("{{{{#> {name}}}}}")
        } else {
            format!("{{{{#{prefix}{name}}}}}")
        };
        Some((name, shown))
    } else if let Some(body) = inside.strip_prefix('^') {
        let name = first_word(body.trim_start());
        // A bare `{{^}}` is an `else`, not a block.
        (!name.is_empty()).then(|| (name, format!("{{{{^{name}}}}}")))
    } else {
        let name = first_word(inside.strip_prefix('/')?.trim_start());
        return close(open, name, line, column);
    };
    if let Some((name, shown)) = opened {
        open.push(Open {
            name,
            shown,
            line,
            column,
        });
    }
    None
}

/// A `{{/name}}` at `line`:`column` closes the innermost block; a problem when that block
/// is another or none is open.
fn close(open: &mut Vec<Open<'_>>, name: &str, line: usize, column: usize) -> Option<Explained> {
    match open.pop() {
        None => Some(Explained {
            line,
            column,
            message: format!("`{{{{/{name}}}}}` closes a block that was never opened"),
        }),
        Some(block) if block.name != name => Some(Explained {
            line,
            column,
            message: format!(
                "`{{{{/{name}}}}}` cannot close `{}` opened on line {}: close that one \
                 first with `{{{{/{}}}}}`",
                block.shown, block.line, block.name
            ),
        }),
        Some(_) => None,
    }
}

/// 1-based line and column (in characters) of byte `at` in `source`.
fn position(source: &str, at: usize) -> (usize, usize) {
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |text| text.chars().count())
        + 1;
    (line, column)
}

/// The parser's own reason without its grammar words.
pub fn plain_parser_message(reason: &str) -> String {
    if reason.contains("expected ") {
        "handlebars cannot read the text here: check the `{{…}}` tag for a typo, a missing \
         `}}`, or a stray `{{`"
            .to_owned()
    } else {
        reason.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(source: &str) -> (usize, usize, String) {
        let explained = explain(source).unwrap_or_else(|| panic!("nothing found in {source:?}"));
        (explained.line, explained.column, explained.message)
    }

    #[test]
    fn an_unclosed_block_is_named_with_its_line() {
        let (line, column, message) =
            said("<p>Hi</p>\n\n  {{#if customer.name}}\nDear {{customer.name}}\n");
        assert_eq!((line, column), (3, 3));
        assert_eq!(
            message,
            "`{{#if}}` opened on line 3 is never closed: add `{{/if}}`"
        );
        let (_, _, message) = said("{{#> layout title=\"x\"}}body");
        assert_eq!(
            message,
            "`{{#> layout}}` opened on line 1 is never closed: add `{{/layout}}`"
        );
    }

    #[test]
    fn a_wrong_or_lonely_close_is_named() {
        let (line, _, message) = said("{{#each items}}\n{{#if x}}a\n{{/each}}\n");
        assert_eq!(line, 3);
        assert_eq!(
            message,
            "`{{/each}}` cannot close `{{#if}}` opened on line 2: close that one first with `{{/if}}`"
        );
        let (line, column, message) = said("ok\nthen {{/if}}");
        assert_eq!((line, column), (2, 6));
        assert_eq!(message, "`{{/if}}` closes a block that was never opened");
    }

    #[test]
    fn a_tag_never_closed_is_named() {
        let (line, column, message) = said("Hello {{customer.name\nBye");
        assert_eq!((line, column), (1, 7));
        assert_eq!(message, "`{{` is never closed with `}}`");
        let (_, _, message) = said("{{!-- a note");
        assert_eq!(message, "`{{!--` is never closed with `--}}`");
    }

    #[test]
    fn well_paired_tags_comments_and_else_are_fine() {
        let source = "{{!-- {{#if}} in a comment --}}{{#if a}}x{{else if b}}y{{else}}z{{/if}}\
                      {{~#each l as |i|~}}{{{i}}}{{/each}}{{#*inline \"r\"}}r{{/inline}}{{^x}}{{/x}}";
        assert_eq!(explain(source), None);
        assert!(
            !plain_parser_message("expected escape, expression, html_expression")
                .contains("html_expression")
        );
    }
}
