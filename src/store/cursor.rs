//! Where a page of `GET /api/events` ended, so the next page
//! starts after it.

use std::fmt;
use std::str::FromStr;

/// Where a page of a listing ended: the last event's receipt time and row, the
/// order listings are sorted in. Events that arrive meanwhile sort before it, so
/// paging on never repeats or skips one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCursor {
    pub received_at_ms: i64,
    pub pk: i64,
}

impl EventCursor {
    /// The SQL condition over `e` for events after the cursor, binding
    /// `received_at_ms` twice and `pk` once, in that order. The first term lets
    /// the `events_received` index start at the cursor.
    pub(super) const SQL: [&'static str; 3] = [
        " AND e.received_at <= ",
        " AND (e.received_at < ",
        " OR e.pk < ",
    ];
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
