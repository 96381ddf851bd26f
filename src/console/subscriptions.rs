//! Subscriptions as the subscriptions plugin keeps them: who has access, on which
//! plan, and the events each state was folded from.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use herald_plugin_subscriptions::ledger::{
    SubscriptionFilter, SubscriptionLedger as _, SubscriptionState,
};
use maud::{html, Markup};
use serde::Deserialize;

use super::page::{head, page, plural, time_s, url};
use super::shell::Shell;
use crate::admin::error::{AdminError, PageError};
use crate::server::AppState;

/// How many subscriptions the list shows, the most recently changed first.
const SHOWN: usize = 50;

/// The search form's query: a subscription or customer id.
#[derive(Debug, Deserialize)]
pub struct Search {
    #[serde(default)]
    id: String,
}

fn search_form(id: &str) -> Markup {
    html! {
        form.filters method="get" action="/subscriptions" role="search" {
            label { "Subscription or customer " input type="search" name="id" value=(id) placeholder="sub_… or cus_…"; }
            button type="submit" { "Show" }
        }
    }
}

fn access_badge(state: &SubscriptionState) -> Markup {
    html! {
        @if state.access {
            span.badge.badge-delivered { "access" }
        } @else {
            span.badge.badge-dead { "no access" }
        }
    }
}

fn plan(state: &SubscriptionState) -> String {
    state
        .items
        .iter()
        .filter_map(|item| item.nickname.clone().or_else(|| item.price.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GET /subscriptions`: the list (a customer's, with `?id=cus_…`), or a redirect to
/// the subscription asked for.
pub async fn search(
    State(state): State<AppState>,
    shell: Shell,
    Query(query): Query<Search>,
) -> Result<Response, PageError> {
    let id = query.id.trim();
    if id.starts_with("sub_") {
        return Ok(Redirect::to(&format!("/subscriptions/{}", url(id))).into_response());
    }
    let filter = SubscriptionFilter {
        status: None,
        customer: (!id.is_empty()).then(|| id.to_owned()),
        limit: SHOWN,
    };
    let states = state
        .store
        .list(&filter)
        .await
        .map_err(|err| AdminError::unavailable(&err.0))?;
    let body = html! {
        (search_form(id))
        table.subscriptions {
            caption { "The " (plural(states.len(), "subscription")) " changed last, newest first" }
            (head(&["Subscription", "Customer", "Status", "Access", "Plan", "Period end (UTC)"]))
            tbody {
                @for sub in &states {
                    tr {
                        td data-label="Subscription" { a href={ "/subscriptions/" (url(&sub.id)) } { (sub.id) } }
                        td data-label="Customer" { (sub.customer.as_deref().unwrap_or("-")) }
                        td data-label="Status" { span.badge.badge-order { (sub.status.as_str()) } }
                        td data-label="Access" { (access_badge(sub)) }
                        td data-label="Plan" { (plan(sub)) }
                        td data-label="Period end (UTC)" { @if let Some(end) = sub.current_period_end { (time_s(end)) } }
                    }
                }
                @if states.is_empty() {
                    tr { td colspan="6" { "No subscriptions yet: the subscriptions plugin records one when a rule sends it a customer.subscription event." } }
                }
            }
        }
    };
    Ok(page("Subscriptions", "/subscriptions", &shell, &body).into_response())
}

/// `GET /subscriptions/{id}`
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
    let title = format!("Subscription {id}");
    let Some((sub, facts)) = found else {
        let body = html! {
            (search_form(&id))
            p { "No subscription " code { (id) } ": the subscriptions plugin has recorded nothing for it." }
        };
        let page = page(&title, "/subscriptions", &shell, &body);
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    };
    let body = html! {
        (search_form(&id))
        dl.fields {
            dt { "Status" } dd { span.badge.badge-order { (sub.status.as_str()) } " " (access_badge(&sub)) }
            dt { "Customer" } dd { (sub.customer.as_deref().unwrap_or("-")) }
            dt { "Plan" } dd { (plan(&sub)) }
            dt { "Period end (UTC)" } dd { @if let Some(end) = sub.current_period_end { (time_s(end)) } }
            @if sub.cancel_at_period_end { dt { "Cancels" } dd { "at the end of the period" } }
            dt { "Latest invoice" } dd { (sub.latest_invoice.as_deref().unwrap_or("-")) }
            dt { "Decided by" } dd { (sub.decided_by) " at " (time_s(sub.decided_at)) }
        }
        table.history {
            caption { "History, oldest first (" (plural(facts.len(), "event")) ")" }
            (head(&["Created (UTC)", "Event", "Type"]))
            tbody {
                @for fact in &facts {
                    tr {
                        td data-label="Created (UTC)" { (time_s(fact.created)) }
                        td data-label="Event" { a href={ "/?q=" (url(&fact.event_id)) } { (fact.event_id) } }
                        td data-label="Type" { (fact.event_type) }
                    }
                }
            }
        }
    };
    Ok(page(&title, "/subscriptions", &shell, &body).into_response())
}
