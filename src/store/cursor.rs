//! Where a page of `GET /api/events` ended, so the next page
//! starts after it.

use std::fmt;
use std::str::FromStr;

use super::sql::Sql;

/// Where a page of a listing ended: the last event's receipt time and row, the
/// order listings are sorted in. Events that arrive meanwhile sort before it, so
/// paging on never repeats or skips one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCursor {
    pub received_at_ms: i64,
    pub pk: i64,
}

impl EventCursor {
    /// Appends the SQL condition over `e` for events after the cursor. The first
    /// term lets the `events_received` index start at the cursor.
    pub(super) fn push_to(&self, sql: &mut Sql) {
        sql.push_bound(
            " AND e.received_at <= {} AND (e.received_at < {}",
            self.received_at_ms,
        );
        sql.push_bound(" OR e.pk < {})", self.pk);
    }
}

impl fmt::Display for EventCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.received_at_ms, self.pk)
    }
}

impl FromStr for EventCursor {
    type Err = ();

    fn from_str(text: &str) -> std::result::Result<Self, ()> {
        let (at, pk) = text.split_once('-').ok_or(())?;
        Ok(Self {
            received_at_ms: at.parse().map_err(|_| ())?,
            pk: pk.parse().map_err(|_| ())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote() {
        let cursor = EventCursor {
            received_at_ms: 1_700_000_000_123,
            pk: 42,
        };
        assert_eq!(cursor.to_string().parse(), Ok(cursor));
        for junk in ["", "12", "a-1", "1-b", "1-2-3"] {
            assert!(junk.parse::<EventCursor>().is_err(), "{junk}");
        }
    }
}
