//! The events list (newest first, filtered, refreshed live by the page's script)
//! and one event's detail: its payload, normalized fields, and jobs with attempts.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::page::{badge, head, json_tree, money, page, plural, time_ms, time_s, url};
use super::shell::Shell;
use crate::admin::error::PageError;
use crate::rules::EventPattern;
use crate::server::AppState;
use crate::store::{EventDetail, EventFilter, EventStatus};

/// Events one listing shows.
const LIST_LIMIT: usize = 100;

/// The list's filters, from its form.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    status: String,
    /// An event id (opens it) or an order id (filters by it).
    #[serde(default)]
    q: String,
}

/// `GET /`: the events list.
pub async fn list(
    State(state): State<AppState>,
    shell: Shell,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let q = query.q.trim();
    if !q.is_empty() {
        for source in state.sources.names() {
            if state.store.event(source, q).await?.is_some() {
                let to = format!("/events/{}/{}", url(source), url(q));
                return Ok(Redirect::to(&to).into_response());
            }
        }
    }
    let kind = query.kind.trim();
    let bad_kind = !kind.is_empty() && EventPattern::parse(kind).is_err();
    let status = match query.status.as_str() {
        "pending" => Some(EventStatus::Pending),
        "delivered" => Some(EventStatus::Delivered),
        "dead" => Some(EventStatus::Dead),
        _ => None,
    };
    let filter = EventFilter {
        kind: (!kind.is_empty() && !bad_kind).then(|| kind.to_owned()),
        order_id: (!q.is_empty() && !q.starts_with("evt_")).then(|| q.to_owned()),
        status,
        since_ms: None,
        until_ms: None,
        after: None,
        limit: LIST_LIMIT,
    };
    let events = state.store.events(&filter).await?;
    let option = |value: &str| html! { option selected[query.status == value] { (value) } };
    let body = html! {
        form.filters method="get" action="/" role="search" {
            label { "Event id or order id " input type="search" name="q" value=(q) placeholder="evt_… or ORDER…"; }
            label { "Type " input name="type" value=(query.kind) placeholder="charge.*"; }
            label { "Status "
                select name="status" {
                    option value="" { "any" }
                    (option("pending")) (option("delivered")) (option("dead")) (option("skipped"))
                }
            }
            button type="submit" { "Filter" }
        }
        @if bad_kind {
            p.note role="alert" { "`" (kind) "` is not an event type or pattern such as " code { "charge.*" } "." }
        }
        @if q.starts_with("evt_") {
            p.note role="status" { "No stored event " code { (q) } "." }
        }
        p.live aria-live="polite" { span data-live-status { "Live: refreshes every few seconds." } }
        table.events data-live="events" aria-describedby="events-caption" {
            caption #events-caption { "Newest first, " (events.len()) " shown" }
            (head(&["Received (UTC)", "Event", "Type", "Order", "Customer", "Amount", "Delivered", "Status"]))
            tbody {
                @for e in &events {
                    tr class={ "status-" (e.status.as_str()) } data-id=(e.event_id) {
                        td data-label="Received" { (time_ms(e.received_at_ms)) }
                        td data-label="Event" { a href={ "/events/" (url(&e.source)) "/" (url(&e.event_id)) } { (e.event_id) } }
                        td data-label="Type" { (e.kind) }
                        td data-label="Order" { @if let Some(id) = &e.order_id { a href={ "/orders/" (url(id)) } { (id) } } }
                        td data-label="Customer" { (e.summary.customer.as_deref().unwrap_or_default()) }
                        td.amount data-label="Amount" { (money(e.summary.amount, e.summary.currency.as_deref())) }
                        td data-label="Jobs" { (e.jobs.delivered) "/" (e.jobs.delivered + e.jobs.pending + e.jobs.dead) }
                        td data-label="Status" { (badge(e.status.as_str())) }
                    }
                }
                @if events.is_empty() {
                    tr { td colspan="8" { "No events yet. " code { "herald trigger payment_intent.succeeded" } " sends one." } }
                }
            }
        }
    };
    Ok(page("Events", "/", &shell, &body).into_response())
}

/// `GET /events/{source}/{id}`: one event.
pub async fn detail(
    State(state): State<AppState>,
    shell: Shell,
    Path((source, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let Some(detail) = state.store.event_detail(&source, &id).await? else {
        let body = html! { p { "No stored event " code { (source) "/" (id) } "." } };
        let page = page("No such event", "/", &shell, &body);
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    };
    let config = state.live.get().config.clone();
    let body = detail_body(&config, &detail);
    Ok(page(&format!("Event {id}"), "/", &shell, &body).into_response())
}

fn detail_body(config: &crate::Config, detail: &EventDetail) -> Markup {
    let e = &detail.event;
    let opt = |value: Option<&str>| value.unwrap_or("—").to_owned();
    let fields: [(&str, Markup); 12] = [
        ("Status", badge(detail.status().as_str())),
        ("Type", html! { (e.kind) }),
        ("Source", html! { (e.source) }),
        ("Created (UTC)", html! { (time_s(e.created)) }),
        ("Received (UTC)", html! { (time_ms(detail.received_at_ms)) }),
        (
            "Live mode",
            html! { (if e.livemode { "yes" } else { "no (test)" }) },
        ),
        ("Object", html! { (opt(e.object_id.as_deref())) }),
        (
            "Order",
            html! {
                @match &e.order_id {
                    Some(id) => a href={ "/orders/" (url(id)) } { (id) },
                    None => "—",
                }
            },
        ),
        ("Customer", html! { (opt(e.customer.name.as_deref())) }),
        ("Email", html! { (opt(e.customer.email.as_deref())) }),
        ("Phone", html! { (opt(e.customer.phone.as_deref())) }),
        ("Amount", html! { (money(e.amount, e.currency.as_deref())) }),
    ];
    let dead = usize::try_from(detail.counts().dead).unwrap_or(usize::MAX);
    html! {
        div.actions {
            button type="button" data-action="redeliver" data-url={ "/events/" (url(&e.source)) "/" (url(&e.id)) "/redeliver" } { "Redeliver" }
            @if dead > 0 {
                " " button type="button" data-action="replay-event" data-event=(e.id) { "Replay " (plural(dead, "dead letter")) }
            }
            p.result role="status" aria-live="polite" {}
        }
        div.detail {
            section { h2 { "Normalized fields" } dl.fields { @for (label, value) in &fields { dt { (label) } dd { (value) } } } }
            section data-live="jobs" {
                h2 { "Jobs and attempts" }
                @for job in &detail.jobs {
                    section.job data-job=(job.id) {
                        h3 { "Job " (job.id) ": rule " code { (job.rule) } " → " code { (job.plugin) } " " (badge(job.status.as_str())) }
                        p {
                            (plural(usize::try_from(job.attempts).unwrap_or(usize::MAX), "attempt"))
                            @if let Some(at) = job.next_run_at_ms { " · next attempt " (time_ms(at)) " UTC" }
                        }
                        table.attempts {
                            caption { "Attempts of job " (job.id) }
                            (head(&["#", "Started (UTC)", "Outcome", "Reason", "Duration"]))
                            tbody {
                                @for a in &job.history {
                                    tr {
                                        td data-label="Attempt" { (a.attempt) }
                                        td data-label="Started (UTC)" { (time_ms(a.started_at_ms)) }
                                        td data-label="Outcome" { (badge(&a.outcome)) }
                                        td data-label="Reason" { (opt(a.error.as_deref())) }
                                        td data-label="Duration" { (a.finished_at_ms.saturating_sub(a.started_at_ms)) " ms" }
                                    }
                                }
                                @if job.history.is_empty() { tr { td colspan="5" { "No attempt yet." } } }
                            }
                        }
                    }
                }
                @if detail.jobs.is_empty() { p { "No rule matched this event: nothing to deliver." } }
            }
        }
        // Outside the live section, which is redrawn every few seconds: an opened
        // message stays open.
        @if !detail.jobs.is_empty() {
            section.messages {
                h2 { "What each job sends" }
                @for job in &detail.jobs {
                    section.job-message {
                        h3 { "Job " (job.id) ": rule " code { (job.rule) } ", action " (job.action_index) }
                        (super::message::job_message(config, e, job))
                    }
                }
            }
        }
        section {
            h2 { "Payload" }
            div.payload {
                @match e.raw.value() {
                    serde_json::Value::Null => pre { (e.raw.text()) },
                    value => (json_tree(value, 2)),
                }
            }
        }
    }
}
