//! Turns at scheduled work, one replica at a time (see the `schedules` migration):
//! [`Store::take_turn`] succeeds for one caller while the work is due, and
//! [`Store::end_turn`] stores where it got to and when it is due again.

use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

/// A turn taken: where the last turn got to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// What the last turn stored; `None` before the first.
    pub cursor: Option<String>,
}

/// A schedule as stored, for listing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    pub name: String,
    /// When the next turn is due (ms since the epoch).
    pub due_at: i64,
    pub cursor: Option<String>,
    /// The instance holding the turn now, if any.
    pub held_by: Option<String>,
}

impl Store {
    /// Takes the turn at `name` for `hold_ms` when it is due at `now_ms` and no
    /// other instance holds it (or its hold ran out). A name never seen is due.
    ///
    /// # Errors
    /// On a database error.
    pub async fn take_turn(&self, name: &str, now_ms: i64, hold_ms: i64) -> Result<Option<Turn>> {
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        let seed = Sql::new(
            "INSERT INTO schedules (name, due_at) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name);
        tx.execute(&seed).await?;
        // On PostgreSQL a second replica's UPDATE waits for the first's row lock,
        // then reads the row again: it finds it held and takes nothing.
        let take = Sql::new(
            "UPDATE schedules SET held_by = $2, held_until = $3
             WHERE name = $1 AND due_at <= $4 AND (held_until IS NULL OR held_until <= $4)
             RETURNING cursor",
        )
        .bind(name)
        .bind(&*self.instance)
        .bind(now_ms.saturating_add(hold_ms))
        .bind(now_ms);
        let taken: Option<(Option<String>,)> = tx.fetch_optional(&take).await?;
        tx.commit().await?;
        Ok(taken.map(|(cursor,)| Turn { cursor }))
    }

    /// Ends this instance's turn at `name`: stores `cursor` and makes the work due
    /// at `next_due_ms`. Returns `false` when the turn was no longer held (its hold
    /// ran out and another instance took it), storing nothing.
    ///
    /// # Errors
    /// On a database error.
    pub async fn end_turn(
        &self,
        name: &str,
        cursor: Option<&str>,
        next_due_ms: i64,
    ) -> Result<bool> {
        let sql = Sql::new(
            "UPDATE schedules SET cursor = $2, due_at = $3, held_by = NULL, held_until = NULL
             WHERE name = $1 AND held_by = $4",
        )
        .bind(name)
        .bind(cursor)
        .bind(next_due_ms)
        .bind(&*self.instance);
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        let ended = tx.execute(&sql).await?;
        tx.commit().await?;
        Ok(ended == 1)
    }

    /// The schedule `name`, as stored.
    ///
    /// # Errors
    /// On a database error.
    pub async fn schedule(&self, name: &str) -> Result<Option<ScheduleRow>> {
        let sql = Sql::new("SELECT name, due_at, cursor, held_by FROM schedules WHERE name = $1")
            .bind(name);
        self.read().await?.fetch_optional(&sql).await
    }
}
