//! `GET /v1/events`: the events of the last 30 days, newest first, a page at a time.

use serde_json::Value;

use super::{ApiError, StripeApi};

/// Which events to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsQuery {
    /// Created at or after this Unix second.
    pub since: i64,
    /// Every event, not only those whose delivery to some endpoint failed.
    pub all: bool,
}

/// One page of events.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsPage {
    /// Whole event objects, newest first.
    pub events: Vec<Value>,
    /// Whether older events follow.
    pub has_more: bool,
}

/// Events a page: Stripe's largest.
const PAGE: u32 = 100;

impl StripeApi {
    /// The page of events after `starting_after` (the last id of the page before;
    /// `None` for the first).
    ///
    /// # Errors
    /// As [`StripeApi::get`], and a list without `data`.
    pub async fn events(
        &self,
        query: &EventsQuery,
        starting_after: Option<&str>,
    ) -> Result<EventsPage, ApiError> {
        let mut params = vec![
            ("limit", PAGE.to_string()),
            ("created[gte]", query.since.to_string()),
        ];
        if !query.all {
            params.push(("delivery_success", "false".to_owned()));
        }
        if let Some(after) = starting_after {
            params.push(("starting_after", after.to_owned()));
        }
        let list = self.get("/v1/events", &params).await?;
        let events = list
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| ApiError::Unreadable("a list without `data`".to_owned()))?;
        Ok(EventsPage {
            events,
            has_more: list.get("has_more").and_then(Value::as_bool) == Some(true),
        })
    }
}
