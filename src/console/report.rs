//! The accountant's report as a page: a window to pick, totals per currency, a chart
//! of net per day per currency, and the movements, as `herald report` shows them.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};
use serde::Deserialize;

use super::chart::net_per_day;
use super::page::{head, page, plural, url};
use super::shell::Shell;
use crate::admin::error::PageError;
use crate::cli::report::instant;
use crate::report::{decimal, stored, totals, Movement};
use crate::server::AppState;

/// Movements listed under the charts; the totals and charts count them all.
const LISTED: usize = 500;

/// Days a chart draws at most; a longer window shows its last ones.
const CHART_DAYS: u64 = 366;

/// The window as the form sends it: days in the shop's zone, `to` included.
#[derive(Debug, Default, Deserialize)]
pub struct Window {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    currency: String,
}

/// `GET /report?from=2026-11-01&to=2026-11-30[&currency=usd]`; without a window, the
/// last 30 days.
pub async fn show(
    State(state): State<AppState>,
    shell: Shell,
    Query(window): Query<Window>,
) -> Result<Response, PageError> {
    let live = state.live.get();
    let zone = crate::render::time_zone(live.config.reloadable.shop.get("time_zone"))
        .unwrap_or(chrono_tz::UTC);
    let today = Utc::now().with_timezone(&zone).date_naive();
    let from = non_empty(&window.from).unwrap_or_else(|| {
        today
            .checked_sub_days(Days::new(29))
            .unwrap_or(today)
            .to_string()
    });
    let to = non_empty(&window.to).unwrap_or_else(|| today.to_string());
    let currency = non_empty(&window.currency);
    let bounds = instant(&from, zone, false)
        .and_then(|start| Ok((start, instant(&to, zone, true)?)))
        .ok()
        .filter(|(start, end)| end > start);
    let form = window_form(&from, &to, currency.as_deref());
    let Some((start, end)) = bounds else {
        let body = html! {
            (form)
            p.note role="alert" { "The window does not read: give two days (2026-11-30), the first no later than the second." }
        };
        return Ok(page("Report", "/report", &shell, &body).into_response());
    };
    let rows = stored(&state.store, (start, end), currency.as_deref()).await?;
    let body = html! {
        (form)
        (totals_table(&rows))
        @for (code, days) in per_day(&rows, zone, (start, end)) {
            figure.chart {
                figcaption { "Net per day, " (code.to_ascii_uppercase()) }
                (net_per_day(&code, &days))
            }
        }
        (movements_table(&rows, &from, &to))
    };
    Ok(page("Report", "/report", &shell, &body).into_response())
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn window_form(from: &str, to: &str, currency: Option<&str>) -> Markup {
    html! {
        form.filters method="get" action="/report" {
            label { "From " input type="date" name="from" value=(from) required; }
            label { "To (included) " input type="date" name="to" value=(to) required; }
            label { "Currency " input type="text" name="currency" value=(currency.unwrap_or("")) placeholder="all" maxlength="3" size="4"; }
            button type="submit" { "Show" }
        }
    }
}

fn totals_table(rows: &[Movement]) -> Markup {
    let totals = totals(rows);
    let both = |(count, amount): (usize, i64), currency: &str| {
        format!("{count} · {}", decimal(amount, currency))
    };
    html! {
        table.totals {
            caption { "Totals per currency: each payment, refund and dispute movement counted once" }
            (head(&["Currency", "Payments", "Refunds", "Disputes", "Net"]))
            tbody {
                @for (currency, total) in &totals {
                    tr {
                        td data-label="Currency" { (currency.to_ascii_uppercase()) }
                        td data-label="Payments" { (both(total.payments, currency)) }
                        td data-label="Refunds" { (both(total.refunds, currency)) }
                        td data-label="Disputes" { (both(total.disputes, currency)) }
                        td data-label="Net" { strong { (decimal(total.net, currency)) } }
                    }
                }
                @if totals.is_empty() {
                    tr { td colspan="5" { "No money moved in this window." } }
                }
            }
        }
    }
}

/// Each currency's net per day of the window, in the shop's zone, quiet days
/// included.
fn per_day(
    rows: &[Movement],
    zone: Tz,
    (start, end): (i64, i64),
) -> BTreeMap<String, Vec<(NaiveDate, i64)>> {
    let day_of = |seconds: i64| {
        DateTime::<Utc>::from_timestamp(seconds, 0).map(|t| t.with_timezone(&zone).date_naive())
    };
    let (Some(first), Some(last)) = (day_of(start), day_of(end - 1)) else {
        return BTreeMap::new();
    };
    let first = last
        .checked_sub_days(Days::new(CHART_DAYS - 1))
        .map_or(first, |earliest| first.max(earliest));
    let mut charts: BTreeMap<String, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for row in rows {
        let days = charts.entry(row.currency.clone()).or_insert_with(|| {
            first
                .iter_days()
                .take_while(|day| *day <= last)
                .map(|day| (day, 0))
                .collect()
        });
        if let Some(net) = day_of(row.created).and_then(|day| days.get_mut(&day)) {
            *net = net.saturating_add(row.amount);
        }
    }
    charts
        .into_iter()
        .map(|(currency, days)| (currency, days.into_iter().collect()))
        .collect()
}

fn movements_table(rows: &[Movement], from: &str, to: &str) -> Markup {
    html! {
        table.movements {
            caption {
                (plural(rows.len(), "movement")) ", oldest first"
                @if rows.len() > LISTED { "; the first " (LISTED) " shown" }
                ". The same as JSON: "
                a href={ "/api/report?from=" (url(from)) "&to=" (url(to)) } { "/api/report" }
                "; as CSV: herald report --format csv."
            }
            (head(&["Created (UTC)", "Type", "Order", "Customer", "Amount", "Fee", "Net", "Event"]))
            tbody {
                @for row in rows.iter().take(LISTED) {
                    @let money = |minor: Option<i64>| minor.map(|m| decimal(m, &row.currency)).unwrap_or_default();
                    tr {
                        td data-label="Created (UTC)" { (super::page::time_ms(row.created.saturating_mul(1000))) }
                        td data-label="Type" { (row.kind) }
                        td data-label="Order" { (row.order_id.as_deref().unwrap_or("-")) }
                        td data-label="Customer" { (row.customer_email.as_deref().unwrap_or("-")) }
                        td data-label="Amount" { (decimal(row.amount, &row.currency)) " " (row.currency.to_ascii_uppercase()) }
                        td data-label="Fee" { (money(row.fee)) }
                        td data-label="Net" { (money(row.net)) }
                        td data-label="Event" { a href={ "/events/stripe/" (url(&row.event_id)) } { (row.event_id) } }
                    }
                }
            }
        }
    }
}
