//! `/api/events`: what was received and what became of it, page by page, and
//! re-delivering it. Shapes are those of `herald events --json` and
//! `herald event --json`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{bad_request, internal, not_found};
use crate::cli::events::json::{detail_json, listing_json};
use crate::replay;
use crate::rules::EventPattern;
use crate::server::AppState;
use crate::store::{EventCursor, EventFilter, EventStatus};

/// A page unless asked for another size.
const DEFAULT_PAGE: usize = 50;

/// The largest page: a listing is one query, and a bigger one holds the database longer.
const MAX_PAGE: usize = 500;

/// Query of `GET /api/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// An event type, or a pattern as in a rule's `on`.
    #[serde(rename = "type")]
    kind: Option<String>,
    order_id: Option<String>,
    status: Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    limit: Option<usize>,
}

impl ListQuery {
    /// The store filter, asking one event more than the page to tell whether
    /// another page follows; or why the query is refused.
    fn into_filter(self) -> Result<EventFilter, String> {
        if let Some(kind) = &self.kind {
            EventPattern::parse(kind).map_err(|err| format!("type: {err}"))?;
        }
        let status = self
            .status
            .as_deref()
            .map(|status| match status {
                "pending" => Ok(EventStatus::Pending),
                "delivered" => Ok(EventStatus::Delivered),
                "dead" => Ok(EventStatus::Dead),
                other => Err(format!(
                    "status: `{other}` is none of pending, delivered, dead"
                )),
            })
            .transpose()?;
        let after = self
            .cursor
            .as_deref()
            .map(|cursor| {
                cursor
                    .parse::<EventCursor>()
                    .map_err(|()| format!("cursor: `{cursor}` is not a next_cursor herald gave"))
            })
            .transpose()?;
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(format!("limit: must be 1 to {MAX_PAGE}"));
        }
        Ok(EventFilter {
            kind: self.kind,
            order_id: self.order_id,
            status,
            since_ms: self.since_ms,
            until_ms: self.until_ms,
            after,
            limit: limit + 1,
        })
    }
}

/// `GET /api/events`: newest first, a page at a time; `next_cursor` fetches the
/// next page, and is `null` on the last.
pub async fn list(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Response {
    let filter = match query.into_filter() {
        Ok(filter) => filter,
        Err(problem) => return bad_request(problem),
    };
    let page = filter.limit - 1;
    let mut events = match state.store.events(&filter).await {
        Ok(events) => events,
        Err(err) => return internal(&err),
    };
    let more = events.len() > page;
    events.truncate(page);
    let next_cursor = more
        .then(|| events.last().map(|event| event.cursor.to_string()))
        .flatten();
    let events: Vec<Value> = events.iter().map(listing_json).collect();
    Json(json!({ "events": events, "next_cursor": next_cursor })).into_response()
}

/// `GET /api/events/{source}/{event_id}`: the event, its jobs with their attempts,
/// and the payload as received.
pub async fn show(
    State(state): State<AppState>,
    Path((source, event_id)): Path<(String, String)>,
) -> Response {
    let detail = match state.store.event_detail(&source, &event_id).await {
        Ok(Some(detail)) => detail,
        Ok(None) => return not_found(format!("no stored event {source}/{event_id}")),
        Err(err) => return internal(&err),
    };
    let mut body = match detail_json(&detail) {
        Ok(body) => body,
        Err(err) => return internal(&err),
    };
    // What Stripe sent; a payload that is somehow not JSON goes as its text.
    let text = detail.event.raw.text();
    body["payload"] = serde_json::from_str(text).unwrap_or_else(|_| Value::from(text));
    (StatusCode::OK, Json(body)).into_response()
}

/// `POST /api/events/{source}/{event_id}/redeliver`: plans the event again under
/// today's rules, re-queueing its jobs.
pub async fn redeliver(
    State(state): State<AppState>,
    Path((source, event_id)): Path<(String, String)>,
) -> Response {
    match replay::redeliver_event(&state.store, state.live.get().rules(), &source, &event_id).await
    {
        Ok(Some(done)) => {
            state.wake_dispatcher.notify_one();
            Json(done).into_response()
        }
        Ok(None) => not_found(format!("no stored event {source}/{event_id}")),
        Err(err) => internal(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &str) -> ListQuery {
        serde_json::from_str(pairs).unwrap()
    }

    #[test]
    fn bad_queries_say_which_parameter() {
        for (text, named) in [
            (r#"{"type": "charge refunded"}"#, "type:"),
            (r#"{"status": "lost"}"#, "status:"),
            (r#"{"cursor": "yesterday"}"#, "cursor:"),
            (r#"{"limit": 0}"#, "limit:"),
            (r#"{"limit": 501}"#, "limit:"),
        ] {
            let problem = query(text).into_filter().unwrap_err();
            assert!(problem.starts_with(named), "{text}: {problem}");
        }
    }

    #[test]
    fn a_page_asks_one_more_to_see_whether_another_follows() {
        let filter = query(r#"{"status": "dead", "cursor": "1700000000000-42", "limit": 10}"#)
            .into_filter()
            .unwrap();
        assert_eq!(filter.limit, 11);
        assert_eq!(filter.status, Some(EventStatus::Dead));
        assert_eq!(
            filter.after,
            Some(EventCursor {
                received_at_ms: 1_700_000_000_000,
                pk: 42
            })
        );
    }
}
