//! An order's status history: the facts (payment, refund, dispute…) its status was
//! folded from, each linked to the event that brought it.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use herald_plugin_orders::ledger::OrderLedger as _;
use serde::Deserialize;
use serde_json::Value;
use tracing::error;

use super::page::{esc, page, time_s, url};
use super::shell::Shell;
use crate::server::AppState;

/// The search form's query.
#[derive(Debug, Deserialize)]
pub struct Search {
    #[serde(default)]
    id: String,
}

/// A serde enum's name (`paid`, `partially_refunded`).
fn name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(text)) => text,
        _ => String::new(),
    }
}

fn search_form(id: &str) -> String {
    format!(
        r#"<form class="filters" method="get" action="/orders" role="search">
<label>Order id <input type="search" name="id" value="{}" required></label>
<button type="submit">Show</button></form>"#,
        esc(id)
    )
}

/// `GET /orders`: the search form and the orders changed last, or a redirect to the
/// order asked for.
pub async fn search(
    State(state): State<AppState>,
    shell: Shell,
    Query(query): Query<Search>,
) -> Response {
    let id = query.id.trim();
    if !id.is_empty() {
        return Redirect::to(&format!("/orders/{}", url(id))).into_response();
    }
    let orders = match state.store.recent_orders().await {
        Ok(orders) => orders,
        Err(err) => {
            error!(error = %err, "console could not list orders");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
        }
    };
    let mut rows = String::new();
    for listing in &orders {
        let order = &listing.state;
        let _ = write!(
            rows,
            "<tr><td data-label=\"Order\"><a href=\"/orders/{href}\">{id}</a></td>\
             <td data-label=\"Status\"><span class=\"badge badge-order\">{status}</span></td>\
             <td data-label=\"Decided by\">{by}</td><td data-label=\"At (UTC)\">{at}</td>\
             <td data-label=\"Facts\">{facts}</td></tr>",
            href = url(&order.order_id),
            id = esc(&order.order_id),
            status = esc(&name(&order.status)),
            by = esc(&order.decided_by),
            at = time_s(order.decided_at),
            facts = order.facts,
        );
    }
    if orders.is_empty() {
        rows.push_str(
            "<tr><td colspan=\"5\">No orders yet: the orders plugin records one when a rule sends it an event with an order id.</td></tr>",
        );
    }
    let body = format!(
        r#"{form}
<table class="orders"><caption>The {count} order{s} changed last, newest first</caption>
<thead><tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Decided by</th><th scope="col">At (UTC)</th><th scope="col">Facts</th></tr></thead>
<tbody>{rows}</tbody></table>"#,
        form = search_form(""),
        count = orders.len(),
        s = if orders.len() == 1 { "" } else { "s" },
    );
    page("Orders", "/orders", &shell, &body).into_response()
}

/// `GET /orders/{id}`
pub async fn show(State(state): State<AppState>, shell: Shell, Path(id): Path<String>) -> Response {
    let found = match state.store.get(&id).await {
        Ok(found) => found,
        Err(err) => {
            error!(error = %err.0, "console could not read an order");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
        }
    };
    let Some((order, facts)) = found else {
        let body = format!(
            "{}<p>No order <code>{}</code>: the orders plugin has recorded nothing for it.</p>",
            search_form(&id),
            esc(&id)
        );
        return (
            StatusCode::NOT_FOUND,
            page(&format!("Order {id}"), "/orders", &shell, &body),
        )
            .into_response();
    };
    let mut rows = String::new();
    for fact in &facts {
        let amount = fact
            .amount
            .map(|minor| format!("{}.{:02}", minor / 100, (minor % 100).abs()))
            .unwrap_or_default();
        let _ = write!(
            rows,
            "<tr><td data-label=\"Created (UTC)\">{at}</td><td data-label=\"Event\"><a href=\"/events/stripe/{href}\">{event}</a></td>\
             <td data-label=\"Type\">{kind}</td><td data-label=\"Signal\">{signal}</td><td data-label=\"Amount\">{amount}</td></tr>",
            at = time_s(fact.created),
            href = url(&fact.event_id),
            event = esc(&fact.event_id),
            kind = esc(&fact.event_type),
            signal = esc(&name(&fact.signal)),
        );
    }
    let body = format!(
        r#"{form}
<dl class="fields"><dt>Status</dt><dd><span class="badge badge-order">{status}</span></dd>
<dt>Decided by</dt><dd>{by}</dd><dt>At (UTC)</dt><dd>{at}</dd></dl>
<table class="history"><caption>History, oldest first ({count} fact{s})</caption>
<thead><tr><th scope="col">Created (UTC)</th><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Signal</th><th scope="col">Amount</th></tr></thead>
<tbody>{rows}</tbody></table>"#,
        form = search_form(&id),
        status = esc(&name(&order.status)),
        by = esc(&order.decided_by),
        at = time_s(order.decided_at),
        count = facts.len(),
        s = if facts.len() == 1 { "" } else { "s" },
    );
    page(&format!("Order {id}"), "/orders", &shell, &body).into_response()
}
