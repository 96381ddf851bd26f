//! A statement and its arguments, held apart from any backend until it runs.

/// One value bound to a `$n` placeholder. Nulls keep their type: PostgreSQL
/// refuses an untyped null where a column wants a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::store) enum Arg {
    Int(Option<i64>),
    /// A flag: `BOOLEAN` on PostgreSQL, 0 or 1 on SQLite.
    Bool(bool),
    Text(Option<String>),
    Bytes(Vec<u8>),
    /// A list for [`super::Dialect::any`]: an array on PostgreSQL, a JSON array on SQLite.
    Ints(Vec<i64>),
    /// A list for [`super::Dialect::any`], of text.
    Texts(Vec<String>),
}

/// A statement written once for both backends: `$1`, `$2`, … placeholders, which
/// SQLite reads as well as PostgreSQL, and the fragments that differ taken from
/// [`super::Dialect`].
#[derive(Debug, Clone)]
pub(in crate::store) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(in crate::store) fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    #[must_use]
    pub(in crate::store) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends `text` and binds `arg` to the placeholder it names, for clauses
    /// added one by one (filters). `text` holds `{}` where the placeholder goes.
    pub(in crate::store) fn push_bound(&mut self, text: &str, arg: impl Into<Arg>) {
        self.args.push(arg.into());
        let placeholder = format!("${}", self.args.len());
        self.text.push_str(&text.replace("{}", &placeholder));
    }

    /// Appends `text`, which binds nothing.
    pub(in crate::store) fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// The next placeholder's number, for clauses built before their argument.
    pub(in crate::store) fn next_placeholder(&self) -> usize {
        self.args.len() + 1
    }

    pub(in crate::store) fn text(&self) -> &str {
        &self.text
    }

    pub(in crate::store) fn args(&self) -> &[Arg] {
        &self.args
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<u32> for Arg {
    fn from(value: u32) -> Self {
        Self::Int(Some(i64::from(value)))
    }
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Self::Text(Some(value.clone()))
    }
}

impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        Self::Text(value.map(str::to_owned))
    }
}

impl From<&Option<String>> for Arg {
    fn from(value: &Option<String>) -> Self {
        Self::Text(value.clone())
    }
}

impl From<Vec<u8>> for Arg {
    fn from(value: Vec<u8>) -> Self {
        Self::Bytes(value)
    }
}

impl From<&[i64]> for Arg {
    fn from(value: &[i64]) -> Self {
        Self::Ints(value.to_vec())
    }
}

impl From<&[String]> for Arg {
    fn from(value: &[String]) -> Self {
        Self::Texts(value.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_clauses_number_their_placeholders_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = $1").bind(1_i64);
        sql.push_bound(" AND b = {}", "x");
        sql.push(" AND c IS NULL");
        sql.push_bound(" AND d >= {} AND d < {}", 5_i64);
        assert_eq!(
            sql.text(),
            "SELECT 1 WHERE a = $1 AND b = $2 AND c IS NULL AND d >= $3 AND d < $3"
        );
        assert_eq!(sql.args().len(), 3);
        assert_eq!(sql.next_placeholder(), 4);
    }
}
