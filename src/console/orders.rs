//! An order's status history: the facts (payment, refund, dispute…) its status was
//! folded from, each linked to the event that brought it.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use herald_plugin_orders::ledger::{OrderLedger as _, OrderState};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::page::{head, page, plural, time_s, url};
use super::shell::Shell;
use crate::admin::error::{AdminError, PageError};
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

fn search_form(id: &str) -> Markup {
    html! {
        form.filters method="get" action="/orders" role="search" {
            label { "Order id " input type="search" name="id" value=(id) required; }
            button type="submit" { "Show" }
        }
    }
}

/// `GET /orders`: the search form and the orders changed last, or a redirect to the
/// order asked for.
pub async fn search(
    State(state): State<AppState>,
    shell: Shell,
    Query(query): Query<Search>,
) -> Result<Response, PageError> {
    let id = query.id.trim();
    if !id.is_empty() {
        return Ok(Redirect::to(&format!("/orders/{}", url(id))).into_response());
    }
    let orders = state.store.recent_orders().await?;
    let body = html! {
        (search_form(""))
        table.orders {
            caption { "The " (plural(orders.len(), "order")) " changed last, newest first" }
            (head(&["Order", "Status", "Decided by", "At (UTC)", "Facts"]))
            tbody {
                @for listing in &orders {
                    @let order = &listing.state;
                    tr {
                        td data-label="Order" { a href={ "/orders/" (url(&order.order_id)) } { (order.order_id) } }
                        td data-label="Status" { (status_badges(order)) }
                        td data-label="Decided by" { (order.decided_by) }
                        td data-label="At (UTC)" { (time_s(order.decided_at)) }
                        td data-label="Facts" { (order.facts) }
                    }
                }
                @if orders.is_empty() {
                    tr { td colspan="5" { "No orders yet: the orders plugin records one when a rule sends it an event with an order id." } }
                }
            }
        }
    };
    Ok(page("Orders", "/orders", &shell, &body).into_response())
}

/// `GET /orders/{id}`
pub async fn show(
    State(state): State<AppState>,
    shell: Shell,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let found = state
        .store
        .get(&id)
        .await
        .map_err(|err| AdminError::unavailable(&err.0))?;
    let title = format!("Order {id}");
    let Some((order, facts)) = found else {
        let body = html! {
            (search_form(&id))
            p { "No order " code { (id) } ": the orders plugin has recorded nothing for it." }
        };
        let page = page(&title, "/orders", &shell, &body);
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    };
    let body = html! {
        (search_form(&id))
        dl.fields {
            dt { "Status" } dd { (status_badges(&order)) }
            dt { "Decided by" } dd { (order.decided_by) }
            dt { "At (UTC)" } dd { (time_s(order.decided_at)) }
        }
        table.history {
            caption { "History, oldest first (" (plural(facts.len(), "fact")) ")" }
            (head(&["Created (UTC)", "Event", "Type", "Signal", "Amount"]))
            tbody {
                @for fact in &facts {
                    tr {
                        td data-label="Created (UTC)" { (time_s(fact.created)) }
                        // A fact keeps no source: the events search finds its event in any.
                        td data-label="Event" { a href={ "/?q=" (url(&fact.event_id)) } { (fact.event_id) } }
                        td data-label="Type" { (fact.event_type) }
                        td data-label="Signal" { (name(&fact.signal)) }
                        td data-label="Amount" {
                            @if let Some(minor) = fact.amount { (minor / 100) "." (format!("{:02}", (minor % 100).abs())) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&title, "/orders", &shell, &body).into_response())
}

/// An order's status badge, and the hold's beside it when the order is held.
fn status_badges(order: &OrderState) -> Markup {
    html! {
        span.badge.badge-order { (name(&order.status)) }
        @if order.on_hold {
            " " span.badge.badge-hold title="A fraud warning or an open review: do not ship" { "on hold" }
        }
    }
}
