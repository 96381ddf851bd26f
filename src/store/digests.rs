//! What `herald digest list` reads: each digest's latest scheduled run.

use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

impl Store {
    /// The latest scheduled run of the digest `name` stored (not `herald digest run`'s):
    /// its event id and when it was raised (Unix seconds).
    ///
    /// # Errors
    /// On a database error.
    pub async fn last_digest(&self, name: &str) -> Result<Option<(String, i64)>> {
        let prefix = like_escaped(&format!("{}:{name}:", crate::digest::EVENT_TYPE));
        let sql = Sql::new(
            "SELECT event_id, created FROM events
             WHERE source = 'herald' AND kind = $1
               AND event_id LIKE $2 ESCAPE '\\' AND event_id NOT LIKE $3 ESCAPE '\\'
             ORDER BY created DESC, pk DESC LIMIT 1",
        )
        .bind(crate::digest::EVENT_TYPE)
        .bind(format!("{prefix}%"))
        .bind(format!("{prefix}run:%"));
        self.read().await?.fetch_optional(&sql).await
    }
}

/// `text` matched literally by `LIKE … ESCAPE '\'`.
fn like_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
