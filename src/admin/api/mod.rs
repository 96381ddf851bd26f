//! `/api`: the admin JSON API, one file per resource. Answers are JSON, errors
//! `{"error": "…"}`; shapes match the command line's `--json`.

mod config;
mod dead_letters;
mod events;
mod inventory;
mod jobs;
mod orders;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tracing::error;

use crate::server::AppState;

/// Every `/api` route; the caller puts the auth in front.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/config", get(config::show))
        .route("/api/events", get(events::list))
        .route("/api/events/{source}/{event_id}", get(events::show))
        .route("/api/dead-letters", get(dead_letters::list))
        .route("/api/dead-letters/replay", post(dead_letters::replay))
        .route("/api/dead-letters/purge", post(dead_letters::purge))
        .route(
            "/api/events/{source}/{event_id}/redeliver",
            post(events::redeliver),
        )
        .route("/api/jobs/{id}", get(jobs::show))
        .route("/api/orders/{order_id}", get(orders::show))
        .route("/api/inventory", get(inventory::list))
        .route("/api/inventory/{sku}", get(inventory::show))
}

/// 503 for a store failure (or a ledger's, which wraps one), whose cause goes to the log rather than the client.
fn internal(err: &dyn std::fmt::Display) -> Response {
    error!(error = %err, "admin request failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "error": "database unavailable" })),
    )
        .into_response()
}

/// 404 saying what was not found.
fn not_found(what: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": what }))).into_response()
}

/// 400 saying what is wrong with the request.
fn bad_request(problem: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": problem }))).into_response()
}
