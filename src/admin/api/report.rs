//! `/api/report`: the accountant's report as JSON, as `herald report --format json`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{bad_request, internal};
use crate::report::{as_json, movements, MONEY_TYPES};
use crate::server::AppState;

/// The window and the currency, as the CLI takes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    from: String,
    to: String,
    currency: Option<String>,
}

/// `GET /api/report?from=2026-11-01&to=2026-11-30[&currency=usd]`
pub async fn show(State(state): State<AppState>, Query(query): Query<ReportQuery>) -> Response {
    let live = state.live.get();
    let zone = match crate::render::time_zone(live.config.reloadable.shop.get("time_zone")) {
        Ok(zone) => zone,
        Err(message) => return bad_request(message),
    };
    let window = crate::cli::report::instant(&query.from, zone, false)
        .and_then(|from| Ok((from, crate::cli::report::instant(&query.to, zone, true)?)));
    let (from, to) = match window {
        Ok((from, to)) if to > from => (from, to),
        Ok(_) => return bad_request("`to` must be after `from`".to_owned()),
        Err(err) => return bad_request(err.to_string()),
    };
    let events = match state
        .store
        .events_created("stripe", &MONEY_TYPES, from, to)
        .await
    {
        Ok(events) => events,
        Err(err) => return internal(&err),
    };
    let mut rows = movements(&events);
    if let Some(currency) = query.currency {
        let currency = currency.to_ascii_lowercase();
        rows.retain(|row| row.currency == currency);
    }
    // The fees `herald report` fetched; a request never waits on Stripe.
    if let Err(err) = crate::report::with_fees(&state.store, None, &mut rows).await {
        return internal(&err);
    }
    Json(as_json(&rows, from, to)).into_response()
}
