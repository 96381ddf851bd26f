//! `/api`: the admin JSON API, one file per resource. Answers are JSON, errors
//! `{"error": "…", "reason": "…"}` ([`AdminError`]); shapes match the command
//! line's `--json`.

mod config;
mod customers;
mod dead_letters;
mod events;
mod followups;
mod inventory;
mod jobs;
mod orders;
mod report;
mod subscriptions;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::AdminError;
use crate::console::templates_api;
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
        .route(
            "/api/customers/{source}/{customer_id}",
            get(customers::show),
        )
        .route("/api/followups", get(followups::list))
        .route("/api/report", get(report::show))
        .route("/api/subscriptions", get(subscriptions::list))
        .route("/api/subscriptions/{id}", get(subscriptions::show))
        .route("/api/inventory", get(inventory::list))
        .route("/api/inventory/{sku}", get(inventory::show))
        // The template editor's, which the console's pages call.
        .route("/api/samples", get(templates_api::samples_list))
        .route("/api/templates", get(templates_api::list))
        .route(
            "/api/templates/{name}",
            get(templates_api::read)
                .put(templates_api::save)
                .post(templates_api::save),
        )
        .route("/api/templates/{name}/render", post(templates_api::render))
}

/// 503 for a store failure (or a ledger's, which wraps one), whose cause goes to the log rather than the client.
fn internal(err: &dyn std::fmt::Display) -> Response {
    AdminError::unavailable(err).into_response()
}

/// 404 saying what was not found.
fn not_found(what: String) -> Response {
    AdminError::NotFound(what).into_response()
}

/// 400 saying what is wrong with the request.
fn bad_request(problem: String) -> Response {
    AdminError::BadRequest(problem).into_response()
}
