//! One line of an event listing (`herald events`, `/api/events`, the console's list):
//! the event, its jobs counted by state, and who and how much it is about.

use serde::Deserialize;

use super::cursor::EventCursor;
use super::events::{EventStatus, JobCounts};
use super::rows::to_u32;

/// One event in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventListing {
    /// Where a listing that ends with this event goes on from.
    pub cursor: EventCursor,
    pub event_id: String,
    pub source: String,
    pub kind: String,
    pub order_id: Option<String>,
    /// When the provider created it, Unix seconds.
    pub created: i64,
    /// When herald received it, Unix ms.
    pub received_at_ms: i64,
    pub jobs: JobCounts,
    pub status: EventStatus,
    /// Who and how much, from the normalized fields, for a person scanning the list.
    pub summary: EventSummary,
}

/// The columns [`EventListingRow`] reads; both backends append their filter,
/// `ORDER BY e.received_at DESC, e.pk DESC` and the limit.
pub(super) const EVENT_LIST_SELECT: &str =
    "SELECT e.pk, e.event_id, e.source, e.kind, e.order_id, e.created, e.received_at, e.normalized,
            (SELECT COUNT(*) FROM jobs j WHERE j.event_pk = e.pk AND j.status IN ('pending', 'held')) AS pending,
            (SELECT COUNT(*) FROM jobs j WHERE j.event_pk = e.pk AND j.status = 'delivered') AS delivered,
            (SELECT COUNT(*) FROM jobs j WHERE j.event_pk = e.pk AND j.status = 'dead') AS dead,
            (SELECT COUNT(*) FROM jobs j WHERE j.event_pk = e.pk AND j.status = 'skipped') AS skipped
     FROM events e WHERE 1 = 1";

/// Newest first; `events_received` walked backwards.
pub(super) const EVENT_LIST_ORDER: &str = " ORDER BY e.received_at DESC, e.pk DESC LIMIT {}";

/// A listed event, as [`EVENT_LIST_SELECT`] reads it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct EventListingRow {
    pk: i64,
    event_id: String,
    source: String,
    kind: String,
    order_id: Option<String>,
    created: i64,
    received_at: i64,
    normalized: String,
    pending: i64,
    delivered: i64,
    dead: i64,
    skipped: i64,
}

impl From<EventListingRow> for EventListing {
    fn from(row: EventListingRow) -> Self {
        let jobs = JobCounts {
            pending: to_u32(row.pending),
            delivered: to_u32(row.delivered),
            dead: to_u32(row.dead),
            skipped: to_u32(row.skipped),
        };
        Self {
            cursor: EventCursor {
                received_at_ms: row.received_at,
                pk: row.pk,
            },
            event_id: row.event_id,
            source: row.source,
            kind: row.kind,
            order_id: row.order_id,
            created: row.created,
            received_at_ms: row.received_at,
            jobs,
            status: EventStatus::from_counts(jobs),
            summary: EventSummary::from_normalized(&row.normalized),
        }
    }
}

/// The customer and amount of an event, read from its normalized fields (small: the
/// payload is not among them), so a listing can show who paid what without reading it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSummary {
    /// The customer's email, or else their name.
    pub customer: Option<String>,
    /// In the currency's minor units.
    pub amount: Option<i64>,
    /// Lower-case ISO code, as Stripe writes it.
    pub currency: Option<String>,
}

impl EventSummary {
    /// From the stored normalized fields; empty when they do not parse.
    pub fn from_normalized(text: &str) -> Self {
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default)]
            customer: Option<Customer>,
            #[serde(default)]
            amount: Option<i64>,
            #[serde(default)]
            currency: Option<String>,
        }
        #[derive(Deserialize)]
        struct Customer {
            #[serde(default)]
            email: Option<String>,
            #[serde(default)]
            name: Option<String>,
        }
        let Ok(fields) = serde_json::from_str::<Fields>(text) else {
            return Self::default();
        };
        Self {
            customer: fields.customer.and_then(|c| c.email.or(c.name)),
            amount: fields.amount,
            currency: fields.currency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_takes_the_email_else_the_name_and_the_amount() {
        let text = r#"{"customer":{"email":"jenny@example.com","name":"Jenny"},"amount":4998,"currency":"usd"}"#;
        let summary = EventSummary::from_normalized(text);
        assert_eq!(summary.customer.as_deref(), Some("jenny@example.com"));
        assert_eq!(
            (summary.amount, summary.currency.as_deref()),
            (Some(4998), Some("usd"))
        );
        let named = EventSummary::from_normalized(r#"{"customer":{"email":null,"name":"Jenny"}}"#);
        assert_eq!(named.customer.as_deref(), Some("Jenny"));
        assert_eq!(
            EventSummary::from_normalized("not json"),
            EventSummary::default()
        );
    }
}
