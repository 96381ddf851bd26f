//! The few places where SQLite's SQL and PostgreSQL's differ, as fragments a
//! shared statement puts in. Everything else is written once: `$n` placeholders,
//! `ON CONFLICT`, `RETURNING`, `COUNT(*) FILTER (WHERE …)` and `excluded.` read
//! the same on both.

/// Which SQL a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `column <this>` is true when the column is in the list bound to `$n`
    /// ([`super::Arg::Ints`] or [`super::Arg::Texts`]): one parameter whatever the
    /// list's length, so no bound-parameter limit and one prepared statement.
    pub(in crate::store) fn any(self, n: usize) -> String {
        match self {
            Self::Sqlite => format!("IN (SELECT value FROM json_each(${n}))"),
            Self::Postgres => format!("= ANY(${n})"),
        }
    }

    /// Locks the rows a `SELECT` reads until the transaction ends. SQLite's
    /// single writer already holds the whole database, so nothing there.
    pub(in crate::store) fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// Like [`Self::for_update`], passing over rows another transaction holds:
    /// concurrent replicas take different rows instead of waiting for each other.
    pub(in crate::store) fn skip_locked(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Keeps the rows a `SELECT` reads from being deleted or changed until the
    /// transaction ends, without stopping others that only read them.
    pub(in crate::store) fn for_share(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR SHARE",
        }
    }

    /// The larger of two expressions.
    pub(in crate::store) fn greatest(self, a: &str, b: &str) -> String {
        match self {
            Self::Sqlite => format!("MAX({a}, {b})"),
            Self::Postgres => format!("GREATEST({a}, {b})"),
        }
    }

    /// Tells SQLite's planner to walk the partial index `index`; PostgreSQL's
    /// planner finds it from the `WHERE` alone.
    pub(in crate::store) fn indexed_by(self, index: &str) -> String {
        match self {
            Self::Sqlite => format!(" INDEXED BY {index}"),
            Self::Postgres => String::new(),
        }
    }

    /// A case-sensitive match against a pattern with `*` wildcards, as rule
    /// patterns have: the operator (with `{}` for the placeholder) and the pattern
    /// as that operator takes it.
    pub(in crate::store) fn glob(self, pattern: &str) -> (&'static str, String) {
        match self {
            Self::Sqlite => (" GLOB {}", pattern.to_owned()),
            Self::Postgres => (" LIKE {}", like_pattern(pattern)),
        }
    }

    /// The statement that makes a read transaction see one moment throughout;
    /// SQLite's read transactions already do.
    pub(in crate::store) fn snapshot(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
        }
    }
}

/// A rule pattern (`*` any run of characters) as a `LIKE` pattern, the characters
/// `LIKE` treats as special escaped with `\`, its default escape.
fn like_pattern(pattern: &str) -> String {
    let mut like = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' => like.push('%'),
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            c => like.push(c),
        }
    }
    like
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_what_like_treats_as_special() {
        assert_eq!(like_pattern("charge.*"), "charge.%");
        assert_eq!(like_pattern("a_b%c\\d"), "a\\_b\\%c\\\\d");
    }
}
