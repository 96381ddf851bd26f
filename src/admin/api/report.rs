//! `/api/report`: the accountant's report as JSON, as `herald report --format json`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{bad_request, internal};
use crate::report::{as_json, stored};
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
    let rows = match stored(&state.store, (from, to), query.currency.as_deref()).await {
        Ok(rows) => rows,
        Err(err) => return internal(&err),
    };
    Json(as_json(&rows, from, to)).into_response()
}
