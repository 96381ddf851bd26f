//! The follow-ups waiting for their deadline: what herald will send, when, unless an
//! event it waits for comes first.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::page::{head, page, plural, time_ms, url};
use super::shell::Shell;
use crate::admin::error::{AdminError, PageError};
use crate::server::AppState;

/// How many waiting follow-ups the page shows, soonest first.
const SHOWN: i64 = 200;

/// `GET /followups`
pub async fn list(State(state): State<AppState>, shell: Shell) -> Result<Response, PageError> {
    let live = state.live.get();
    let rules = live.rules();
    let names = rules.followup_names();
    let waiting = state
        .store
        .pending_followups(&names, SHOWN)
        .await
        .map_err(|err| AdminError::unavailable(&err.to_string()))?;
    let unless = |name: &str| {
        rules
            .iter()
            .find(|rule| rule.name() == name)
            .and_then(|rule| rule.followup())
            .map(|followup| {
                let types: Vec<&str> = followup
                    .unless
                    .iter()
                    .map(crate::rules::EventPattern::as_str)
                    .collect();
                types.join(", ")
            })
            .unwrap_or_default()
    };
    let body = html! {
        table.followups {
            caption { (plural(waiting.len(), "follow-up job")) " waiting, soonest first; each runs at its time unless an event it waits for comes first" }
            (head(&["Due (UTC)", "Follow-up", "Action", "Event", "Type", "Object", "Order", "Unless"]))
            tbody {
                @for followup in &waiting {
                    tr {
                        td data-label="Due (UTC)" { (time_ms(followup.due_at_ms)) }
                        td data-label="Follow-up" { (followup.rule) }
                        td data-label="Action" { (followup.plugin) }
                        td data-label="Event" { a href={ "/events/" (url(&followup.source)) "/" (url(&followup.event_id)) } { (followup.event_id) } }
                        td data-label="Type" { (followup.event_type) }
                        td data-label="Object" { (followup.object_id.as_deref().unwrap_or("-")) }
                        td data-label="Order" { (followup.order_id.as_deref().unwrap_or("-")) }
                        td data-label="Unless" { (unless(&followup.rule)) }
                    }
                }
                @if waiting.is_empty() {
                    tr { td colspan="8" { "No follow-up is waiting. [[followups]] in config.toml start one when their `after` event arrives (docs/followups.md)." } }
                }
            }
        }
    };
    Ok(page("Follow-ups", "/followups", &shell, &body).into_response())
}
