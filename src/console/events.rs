//! The events list (newest first, filtered, refreshed live by the page's script)
//! and one event's detail: its payload, normalized fields, and jobs with attempts.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tracing::error;

use super::page::{badge, esc, json_tree, money, page, time_ms, time_s, url};
use super::shell::Shell;
use crate::rules::EventPattern;
use crate::server::AppState;
use crate::store::{EventDetail, EventFilter, EventStatus, StoreError};

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

/// A database failure as a page.
pub fn unavailable(err: &StoreError) -> Response {
    error!(error = %err, "console could not read the store");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html("<p>The database is unavailable; try again.</p>".to_owned()),
    )
        .into_response()
}

/// `GET /`: the events list.
pub async fn list(
    State(state): State<AppState>,
    shell: Shell,
    Query(query): Query<ListQuery>,
) -> Response {
    let q = query.q.trim();
    if q.starts_with("evt_") {
        match state.store.event_detail("stripe", q).await {
            Ok(Some(_)) => {
                return Redirect::to(&format!("/events/stripe/{}", url(q))).into_response()
            }
            Ok(None) => {}
            Err(err) => return unavailable(&err),
        }
    }
    let mut notes = String::new();
    let kind = match query.kind.trim() {
        "" => None,
        kind if EventPattern::parse(kind).is_ok() => Some(kind.to_owned()),
        kind => {
            let _ = write!(notes, "<p class=\"note\" role=\"alert\">`{}` is not an event type or pattern such as <code>charge.*</code>.</p>", esc(kind));
            None
        }
    };
    let status = match query.status.as_str() {
        "pending" => Some(EventStatus::Pending),
        "delivered" => Some(EventStatus::Delivered),
        "dead" => Some(EventStatus::Dead),
        _ => None,
    };
    let filter = EventFilter {
        kind,
        order_id: (!q.is_empty() && !q.starts_with("evt_")).then(|| q.to_owned()),
        status,
        since_ms: None,
        until_ms: None,
        after: None,
        limit: LIST_LIMIT,
    };
    if q.starts_with("evt_") {
        let _ = write!(
            notes,
            "<p class=\"note\" role=\"status\">No stored event <code>{}</code>.</p>",
            esc(q)
        );
    }
    let events = match state.store.events(&filter).await {
        Ok(events) => events,
        Err(err) => return unavailable(&err),
    };
    let mut rows = String::new();
    for e in &events {
        let href = format!("/events/{}/{}", url(&e.source), url(&e.event_id));
        let order = e.order_id.as_deref().map_or_else(String::new, |id| {
            format!("<a href=\"/orders/{}\">{}</a>", url(id), esc(id))
        });
        let _ = write!(
            rows,
            "<tr class=\"status-{status}\" data-id=\"{id}\"><td data-label=\"Received\">{received}</td>\
             <td data-label=\"Event\"><a href=\"{href}\">{id}</a></td><td data-label=\"Type\">{kind}</td>\
             <td data-label=\"Order\">{order}</td><td data-label=\"Customer\">{customer}</td>\
             <td data-label=\"Amount\" class=\"amount\">{amount}</td><td data-label=\"Jobs\">{delivered}/{total}</td>\
             <td data-label=\"Status\">{badge}</td></tr>",
            status = e.status.as_str(),
            id = esc(&e.event_id),
            received = time_ms(e.received_at_ms),
            kind = esc(&e.kind),
            customer = esc(e.summary.customer.as_deref().unwrap_or_default()),
            amount = money(e.summary.amount, e.summary.currency.as_deref()),
            delivered = e.jobs.delivered,
            total = e.jobs.delivered + e.jobs.pending + e.jobs.dead,
            badge = badge(e.status.as_str()),
        );
    }
    if events.is_empty() {
        rows.push_str("<tr><td colspan=\"8\">No events yet. <code>herald trigger payment_intent.succeeded</code> sends one.</td></tr>");
    }
    let selected = |value: &str| {
        if query.status == value {
            " selected"
        } else {
            ""
        }
    };
    let body = format!(
        r#"<form class="filters" method="get" action="/" role="search">
<label>Event id or order id <input type="search" name="q" value="{q}" placeholder="evt_… or ORDER…"></label>
<label>Type <input name="type" value="{kind}" placeholder="charge.*"></label>
<label>Status <select name="status"><option value="">any</option><option{p}>pending</option><option{d}>delivered</option><option{x}>dead</option><option{s}>skipped</option></select></label>
<button type="submit">Filter</button>
</form>
{notes}
<p class="live" aria-live="polite"><span data-live-status>Live: refreshes every few seconds.</span></p>
<table class="events" data-live="events" aria-describedby="events-caption">
<caption id="events-caption">Newest first, {count} shown</caption>
<thead><tr><th scope="col">Received (UTC)</th><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Order</th><th scope="col">Customer</th><th scope="col">Amount</th><th scope="col">Delivered</th><th scope="col">Status</th></tr></thead>
<tbody>{rows}</tbody>
</table>"#,
        q = esc(q),
        kind = esc(&query.kind),
        p = selected("pending"),
        d = selected("delivered"),
        x = selected("dead"),
        s = selected("skipped"),
        count = events.len(),
    );
    page("Events", "/", &shell, &body).into_response()
}

/// `GET /events/{source}/{id}`: one event.
pub async fn detail(
    State(state): State<AppState>,
    shell: Shell,
    Path((source, id)): Path<(String, String)>,
) -> Response {
    match state.store.event_detail(&source, &id).await {
        Ok(Some(detail)) => {
            let config = state.live.get().config.clone();
            page(
                &format!("Event {id}"),
                "/",
                &shell,
                &detail_body(&config, &detail),
            )
            .into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            page(
                "No such event",
                "/",
                &shell,
                &format!(
                    "<p>No stored event <code>{}/{}</code>.</p>",
                    esc(&source),
                    esc(&id)
                ),
            ),
        )
            .into_response(),
        Err(err) => unavailable(&err),
    }
}

fn detail_body(config: &crate::Config, detail: &EventDetail) -> String {
    let e = &detail.event;
    let field = |label: &str, value: String| format!("<dt>{label}</dt><dd>{value}</dd>");
    let opt = |value: Option<&str>| value.map_or_else(|| "—".to_owned(), esc);
    let order = e.order_id.as_deref().map_or_else(
        || "—".to_owned(),
        |id| format!("<a href=\"/orders/{}\">{}</a>", url(id), esc(id)),
    );
    let fields = [
        field("Status", badge(detail.status().as_str())),
        field("Type", esc(&e.kind)),
        field("Source", esc(&e.source)),
        field("Created (UTC)", time_s(e.created)),
        field("Received (UTC)", time_ms(detail.received_at_ms)),
        field(
            "Live mode",
            if e.livemode { "yes" } else { "no (test)" }.to_owned(),
        ),
        field("Object", opt(e.object_id.as_deref())),
        field("Order", order),
        field("Customer", opt(e.customer.name.as_deref())),
        field("Email", opt(e.customer.email.as_deref())),
        field("Phone", opt(e.customer.phone.as_deref())),
        field("Amount", money(e.amount, e.currency.as_deref())),
    ]
    .concat();
    let mut jobs = String::new();
    let mut messages = String::new();
    for job in &detail.jobs {
        let mut attempts = String::new();
        for a in &job.history {
            let _ = write!(
                attempts,
                "<tr><td data-label=\"Attempt\">{n}</td><td data-label=\"Started (UTC)\">{at}</td><td data-label=\"Outcome\">{outcome}</td>\
                 <td data-label=\"Reason\">{reason}</td><td data-label=\"Duration\">{ms} ms</td></tr>",
                n = a.attempt,
                at = time_ms(a.started_at_ms),
                outcome = badge(&a.outcome),
                reason = opt(a.error.as_deref()),
                ms = a.finished_at_ms.saturating_sub(a.started_at_ms),
            );
        }
        if job.history.is_empty() {
            attempts.push_str("<tr><td colspan=\"5\">No attempt yet.</td></tr>");
        }
        let next = job.next_run_at_ms.map_or_else(String::new, |at| {
            format!(" · next attempt {} UTC", time_ms(at))
        });
        let _ = write!(
            jobs,
            "<section class=\"job\" data-job=\"{id}\"><h3>Job {id}: rule <code>{rule}</code> → <code>{plugin}</code> {badge}</h3>\
             <p>{count} attempt{s}{next}</p>\
             <table class=\"attempts\"><caption>Attempts of job {id}</caption><thead><tr><th scope=\"col\">#</th><th scope=\"col\">Started (UTC)</th><th scope=\"col\">Outcome</th><th scope=\"col\">Reason</th><th scope=\"col\">Duration</th></tr></thead><tbody>{attempts}</tbody></table></section>",
            id = job.id,
            rule = esc(&job.rule),
            plugin = esc(&job.plugin),
            badge = badge(job.status.as_str()),
            count = job.attempts,
            s = if job.attempts == 1 { "" } else { "s" },
        );
        // Outside the live section, which is redrawn every few seconds: an opened
        // message stays open.
        let _ = write!(
            messages,
            "<section class=\"job-message\"><h3>Job {id}: rule <code>{rule}</code>, action {index}</h3>{message}</section>",
            id = job.id,
            rule = esc(&job.rule),
            index = job.action_index,
            message = super::message::job_message(config, e, job),
        );
    }
    if detail.jobs.is_empty() {
        jobs.push_str("<p>No rule matched this event: nothing to deliver.</p>");
    }
    if !messages.is_empty() {
        messages =
            format!("<section class=\"messages\"><h2>What each job sends</h2>{messages}</section>");
    }
    let dead = detail.counts().dead;
    let replay = if dead > 0 {
        format!("<button type=\"button\" data-action=\"replay-event\" data-event=\"{}\">Replay {dead} dead letter{}</button>", esc(&e.id), if dead == 1 { "" } else { "s" })
    } else {
        String::new()
    };
    let payload = match e.raw.value() {
        serde_json::Value::Null => format!("<pre>{}</pre>", esc(e.raw.text())),
        value => json_tree(value, 2),
    };
    format!(
        r#"<div class="actions">
<button type="button" data-action="redeliver" data-url="/events/{source}/{id}/redeliver">Redeliver</button>
{replay}
<p class="result" role="status" aria-live="polite"></p>
</div>
<div class="detail">
<section><h2>Normalized fields</h2><dl class="fields">{fields}</dl></section>
<section data-live="jobs"><h2>Jobs and attempts</h2>{jobs}</section>
</div>
{messages}
<section><h2>Payload</h2><div class="payload">{payload}</div></section>"#,
        source = url(&e.source),
        id = url(&e.id),
    )
}
